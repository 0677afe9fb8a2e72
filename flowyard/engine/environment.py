"""What the host injects into every engine call: clock, SIDs, subflow loader and limits."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Flow


def _utcnow() -> datetime:
    return datetime.now(UTC)


def fresh_sid(prefix: str) -> str:
    """A fresh SID such as ``FW`` + 32 hex digits: 12 of the creation time in milliseconds,
    then 20 random ones (80 bits).

    Twilio's SIDs look random and nothing may read meaning into them; ours begin with the
    time so that every unique index on a SID grows at its end. Fully random keys made each
    new step, message and execution dirty a different index page, and writing those pages
    back was most of a sprint's commit on SQLite.
    """
    stamp = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    return f"{prefix}{stamp:012x}{secrets.token_hex(10)}"


def _no_subflows(flow_sid: str, revision_spec: str) -> Flow | None:
    return None


@dataclass
class Environment:
    """Injected dependencies and limits; the defaults are Studio's published values.

    ``load_subflow(flow_sid, revision_spec)`` receives a Run Subflow ``flow_revision``
    (``"LatestPublished"``, ``"LatestDraft"`` or a number as a string) and returns the parsed
    revision or None.
    """

    now: Callable[[], datetime] = _utcnow
    new_sid: Callable[[str], str] = fresh_sid
    load_subflow: Callable[[str, str], Flow | None] = _no_subflows
    max_steps: int = 1000
    max_same_widget_in_a_row: int = 10
    lifetime_seconds: float = 30 * 24 * 3600
    liquid_loop_limit: int = 15
    http_timeout: float = 10.0
    http_max_bytes: int = 64 * 1024
    default_reply_timeout: int = 3600
    # Studio's Liquid ``date`` filter works in Pacific time (studio-runtime.md 4.3).
    timezone: str = "America/Los_Angeles"
    # Split ``regex`` condition: whole-string match (True) or search anywhere (False).
    regex_fullmatch: bool = True

    def timestamp(self) -> float:
        """The injected clock as epoch seconds."""
        return self.now().timestamp()
