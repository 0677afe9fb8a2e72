"""Timestamps as the store keeps them: naive UTC, whole seconds (Twilio shows no fractions)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current UTC time without tzinfo and without microseconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def precise_now() -> datetime:
    """The current UTC time without tzinfo, to the microsecond (leases, arrival order)."""
    return datetime.now(UTC).replace(tzinfo=None)
