"""Execution state: everything needed to continue an execution, as plain JSON.

The host stores ``ExecutionState.to_json()`` (it may keep ``context`` in its own column) and
hands ``ExecutionState.from_json(...)`` back on the next resume; nothing else is kept between
engine calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACTIVE = "active"
ENDED = "ended"


@dataclass(slots=True)
class Wait:
    """What a parked execution waits for: ``kind`` (``reply``...), the widget, a deadline.

    ``until`` is epoch seconds (UTC); the host schedules a ``Timeout`` resume at that moment.
    It is never later than the execution's 30-day expiry.
    """

    kind: str
    widget: str
    until: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "widget": self.widget, "until": self.until}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Wait:
        return cls(kind=data["kind"], widget=data["widget"], until=data.get("until"))


@dataclass(slots=True)
class ServiceCall:
    """A request for the outside world: ``kind`` is message, http, function or task.

    ``request`` is fully rendered; the host performs it and resumes with a ``CallResult``.
    """

    kind: str
    widget: str
    request: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "widget": self.widget, "request": self.request}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceCall:
        return cls(kind=data["kind"], widget=data["widget"], request=dict(data["request"]))


@dataclass(slots=True)
class Frame:
    """A running subflow: which child revision, and what to restore in the parent."""

    flow_sid: str
    revision: int
    widget: str  # the parent's run-subflow widget
    parent_context: dict[str, Any]
    parent_step_sid: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "flow_sid": self.flow_sid,
            "revision": self.revision,
            "widget": self.widget,
            "parent_context": self.parent_context,
            "parent_step_sid": self.parent_step_sid,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        return cls(
            flow_sid=data["flow_sid"],
            revision=int(data["revision"]),
            widget=data["widget"],
            parent_context=data["parent_context"],
            parent_step_sid=data.get("parent_step_sid"),
        )


@dataclass(slots=True)
class ExecutionState:
    """One execution between two engine calls.

    ``context`` is the live context of the flow being run (the child's own context while a
    subflow runs; the parent's is kept in ``frames``). ``parked_on`` is the widget the
    execution stopped in, with ``wait`` or ``pending`` saying why.
    """

    execution_sid: str
    flow_sid: str
    context: dict[str, Any]
    flow_revision: int = 0
    status: str = ACTIVE
    parked_on: str | None = None
    wait: Wait | None = None
    pending: ServiceCall | None = None
    step_count: int = 0
    consecutive_runs: int = 0
    last_widget: str | None = None
    last_step_sid: str | None = None
    frames: list[Frame] = field(default_factory=list)
    started_at: float = 0.0
    expires_at: float | None = None
    ended_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON snapshot (dicts, lists, strings, numbers, None)."""
        return {
            "execution_sid": self.execution_sid,
            "flow_sid": self.flow_sid,
            "flow_revision": self.flow_revision,
            "status": self.status,
            "context": self.context,
            "parked_on": self.parked_on,
            "wait": self.wait.to_json() if self.wait else None,
            "pending": self.pending.to_json() if self.pending else None,
            "step_count": self.step_count,
            "consecutive_runs": self.consecutive_runs,
            "last_widget": self.last_widget,
            "last_step_sid": self.last_step_sid,
            "frames": [f.to_json() for f in self.frames],
            "started_at": self.started_at,
            "expires_at": self.expires_at,
            "ended_reason": self.ended_reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionState:
        """The inverse of ``to_json``; unknown keys are ignored, missing ones defaulted."""
        wait = data.get("wait")
        pending = data.get("pending")
        return cls(
            execution_sid=data["execution_sid"],
            flow_sid=data["flow_sid"],
            context=data.get("context") or {},
            flow_revision=int(data.get("flow_revision") or 0),
            status=data.get("status") or ACTIVE,
            parked_on=data.get("parked_on"),
            wait=Wait.from_json(wait) if wait else None,
            pending=ServiceCall.from_json(pending) if pending else None,
            step_count=int(data.get("step_count") or 0),
            consecutive_runs=int(data.get("consecutive_runs") or 0),
            last_widget=data.get("last_widget"),
            last_step_sid=data.get("last_step_sid"),
            frames=[Frame.from_json(f) for f in data.get("frames") or ()],
            started_at=float(data.get("started_at") or 0.0),
            expires_at=data.get("expires_at"),
            ended_reason=data.get("ended_reason"),
        )
