"""What the host injects into every engine call: clock, SIDs, subflow loader and limits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Flow


def _utcnow() -> datetime:
    return datetime.now(UTC)


# Random bytes come from the OS a block at a time. One getrandom call per SID released the
# GIL eleven times an execution, and the event loop then waited for the commit thread to hand
# it back. A forked child starts with no block, never its parent's.
_BLOCK = 4096
_random = {"block": b"", "at": _BLOCK}
_random_lock = threading.Lock()
os.register_at_fork(after_in_child=lambda: _random.update(block=b"", at=_BLOCK))


def _random_hex(size: int) -> str:
    with _random_lock:
        at = _random["at"]
        if at + size > len(_random["block"]):
            _random["block"], at = os.urandom(_BLOCK), 0
        _random["at"] = at + size
        return _random["block"][at : at + size].hex()


def fresh_sid(prefix: str) -> str:
    """A fresh SID such as ``FW`` + 32 hex digits: 12 of the creation time in milliseconds,
    then 20 random ones (80 bits from the OS's cryptographic source).

    Twilio's SIDs look random and nothing may read meaning into them; ours begin with the
    time so that every unique index on a SID grows at its end. Fully random keys made each
    new step, message and execution dirty a different index page, and writing those pages
    back was most of a sprint's commit on SQLite.
    """
    stamp = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    return f"{prefix}{stamp:012x}{_random_hex(10)}"


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
