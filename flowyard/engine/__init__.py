"""The pure Studio engine: definitions in, steps and service calls out.

It imports nothing from the web, the database or the rest of Flowyard. A host calls
``start(flow, Trigger(...), env)`` and ``resume(flow, state, input, env)``, performs the
``Sprint.pending`` service call when there is one, stores ``Sprint.state`` and the steps,
and schedules a ``Timeout`` for ``Sprint.wait.until``.
"""

from .context import apply_patch
from .environment import Environment, fresh_sid
from .io import (
    CallResult,
    DeliveryFailure,
    EngineError,
    Reply,
    ResumeInput,
    Sprint,
    Step,
    Timeout,
    Trigger,
)
from .liquid import Renderer, TemplateError
from .model import Flow, State, Transition
from .runner import end, resume, start
from .services import Service, run_until_wait
from .state import ACTIVE, ENDED, ExecutionState, Frame, ServiceCall, Wait

__all__ = [
    "ACTIVE",
    "ENDED",
    "CallResult",
    "DeliveryFailure",
    "EngineError",
    "Environment",
    "ExecutionState",
    "Flow",
    "Frame",
    "Renderer",
    "Reply",
    "ResumeInput",
    "Service",
    "ServiceCall",
    "Sprint",
    "State",
    "Step",
    "TemplateError",
    "Timeout",
    "Transition",
    "Trigger",
    "Wait",
    "apply_patch",
    "end",
    "fresh_sid",
    "resume",
    "run_until_wait",
    "start",
]
