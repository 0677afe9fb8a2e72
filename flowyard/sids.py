"""Twilio-style resource identifiers: two letters and 32 lower-case hex digits."""

from __future__ import annotations

import re
import secrets

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def new_sid(prefix: str) -> str:
    """Return a fresh random SID such as ``FW`` + 32 hex digits."""
    return prefix + secrets.token_hex(16)


def is_sid(value: str, prefix: str) -> bool:
    """True when ``value`` is a well-formed SID with this prefix."""
    return value.startswith(prefix) and SID_RE.match(value) is not None
