"""Twilio-style resource identifiers: two letters and 32 lower-case hex digits."""

from __future__ import annotations

import re
import secrets
import time

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def new_sid(prefix: str) -> str:
    """A fresh SID such as ``FW`` + 32 hex digits: 12 of the creation time in milliseconds,
    then 20 random ones (80 bits).

    Twilio's SIDs look random and nothing may read meaning into them; ours begin with the
    time so that every unique index on a SID grows at its end. Fully random keys made each
    new step, message and execution dirty a different index page, and writing those pages
    back was most of a sprint's commit on SQLite.
    """
    stamp = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    return f"{prefix}{stamp:012x}{secrets.token_hex(10)}"


def is_sid(value: str, prefix: str) -> bool:
    """True when ``value`` is a well-formed SID with this prefix."""
    return value.startswith(prefix) and SID_RE.match(value) is not None
