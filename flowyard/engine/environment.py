"""What the host injects into every engine call: clock, SIDs, subflow loader and limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flowyard.sids import new_sid as fresh_sid

if TYPE_CHECKING:
    from .model import Flow


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
