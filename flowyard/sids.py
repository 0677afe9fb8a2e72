"""Twilio-style resource identifiers: two letters and 32 lower-case hex digits."""

from __future__ import annotations

import re

from flowyard.engine.environment import fresh_sid

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def new_sid(prefix: str) -> str:
    """A fresh SID with this prefix (the engine's: its time, then 80 random bits)."""
    return fresh_sid(prefix)


def is_sid(value: str, prefix: str) -> bool:
    """True when ``value`` is a well-formed SID with this prefix."""
    return value.startswith(prefix) and SID_RE.match(value) is not None
