"""Answering service calls in-process: for tests, the CLI runner and other sync hosts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .environment import Environment
from .io import CallResult, EngineError, Sprint
from .model import Flow
from .runner import resume
from .state import ServiceCall

# A service answers one kind of call (message, http, function, task, twiml_fetch).
Service = Callable[[ServiceCall], CallResult]


def run_until_wait(
    flow: Flow,
    sprint: Sprint,
    env: Environment,
    services: Mapping[str, Service],
    *,
    max_calls: int = 10_000,
) -> Sprint:
    """Resolve ``sprint``'s pending service calls with ``services`` until the execution
    waits or ends.

    Returns one sprint covering everything: all steps and errors in order, the first
    sprint's ``base_context``, the final state. A kind with no service gets a failed
    ``CallResult``; an exception from a service is a failed result too.
    """
    steps, errors = list(sprint.steps), list(sprint.errors)
    base = sprint.base_context
    calls = 0
    while sprint.pending is not None and calls < max_calls:
        calls += 1
        call = sprint.pending
        service = services.get(call.kind)
        if service is None:
            result = CallResult(ok=False, error=f"no service for {call.kind!r} calls")
        else:
            try:
                result = service(call)
            except Exception as exc:  # the outside world failing is a failed call
                result = CallResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        sprint = resume(flow, sprint.state, result, env)
        steps.extend(sprint.steps)
        errors.extend(sprint.errors)
    if sprint.pending is not None:
        errors.append(EngineError("too_many_calls", f"gave up after {max_calls} calls"))
    return Sprint(
        state=sprint.state,
        steps=steps,
        pending=sprint.pending,
        wait=sprint.wait,
        errors=errors,
        base_context=base,
    )
