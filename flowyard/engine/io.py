"""What goes into the engine (triggers and resumes) and what comes out (sprints and steps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .state import ExecutionState, ServiceCall, Wait

# -- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trigger:
    """Starts an execution.

    ``event`` is ``incomingRequest`` (payload ``{to, from, parameters}``), ``incomingMessage``
    (payload: the raw inbound webhook params), ``incomingCall``,
    ``incomingConversationMessage`` or ``incomingParent`` (payload ``{parameters, ...}``).
    """

    event: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """An inbound message for an execution waiting in Send & Wait For Reply."""

    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Timeout:
    """The execution's timer fired (a reply timeout or the lifetime expiry)."""


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A ``failed``/``undelivered`` status callback for a message the execution sent."""

    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    """The host's answer to a pending ``ServiceCall``.

    ``ok`` means the outside world answered (an HTTP 500 is still ``ok`` with its
    ``status_code``); ``ok=False`` is a transport failure or a refused request, with
    ``error`` saying why and ``data`` holding whatever resource came back, if any.
    """

    ok: bool
    data: dict[str, Any] | None = None
    error: str | None = None


ResumeInput = Reply | Timeout | DeliveryFailure | CallResult

# -- outputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineError:
    """Something that went wrong, recorded rather than raised.

    ``code`` is the Studio runtime error code where one exists (81000 steps, 81001 same
    widget, 81018 Liquid, ...); ``fatal`` errors ended the execution.
    """

    kind: str
    message: str
    code: int | None = None
    widget: str | None = None
    fatal: bool = False
    step_sid: str | None = None  # the step that left the widget (or the last one, if fatal)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "code": self.code,
            "widget": self.widget,
            "fatal": self.fatal,
            "step_sid": self.step_sid,
        }


@dataclass(frozen=True, slots=True)
class Step:
    """One transition: ``transitioned_from --name--> transitioned_to``.

    ``patch`` is what the step changed in the context (see ``apply_patch``); ``flow_sid`` is
    the flow the widget belongs to (the child's inside a subflow, where ``parent_step_sid``
    names the parent step that entered the Run Subflow widget).
    """

    sid: str
    name: str
    transitioned_from: str
    transitioned_to: str
    widget_type: str
    date: datetime
    patch: dict[str, Any]
    flow_sid: str
    parent_step_sid: str | None = None


@dataclass(slots=True)
class Sprint:
    """The result of one engine call.

    The execution either ended (``state.status == "ended"``), waits (``wait``), or needs the
    host to perform ``pending`` and resume with its ``CallResult``. ``base_context`` is set by
    ``start``: the context before step 1, to which the steps' patches apply.
    """

    state: ExecutionState
    steps: list[Step] = field(default_factory=list)
    pending: ServiceCall | None = None
    wait: Wait | None = None
    errors: list[EngineError] = field(default_factory=list)
    base_context: dict[str, Any] | None = None

    @property
    def ended(self) -> bool:
        return not self.state.active
