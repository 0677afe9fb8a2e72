"""The engine's entry points: ``start``, ``resume`` and ``end``.

Each call takes a flow, a state and one input, runs widgets until the execution ends, parks,
or needs a service call, and returns a ``Sprint``. Nothing raises out of these functions:
every problem becomes an ``EngineError`` in ``Sprint.errors`` (fatal ones end the execution).
The caller's ``ExecutionState`` is never modified.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import liquid
from .context import trigger_context
from .environment import Environment
from .io import CallResult, EngineError, ResumeInput, Sprint, Trigger
from .model import Flow
from .run import Run
from .state import ACTIVE, ExecutionState
from .widgets import widget_for
from .widgets.base import Outcome


def start(
    flow: Flow, trigger: Trigger, env: Environment, *, execution_sid: str | None = None
) -> Sprint:
    """Start an execution from ``trigger``; ``Sprint.base_context`` is the context before
    step 1 (``Trigger --<event>--> first widget``)."""
    sid = execution_sid or env.new_sid("FN")
    now = env.timestamp()
    context = trigger_context(
        trigger.event, dict(trigger.payload), execution_sid=sid, flow_sid=flow.flow_sid
    )
    state = ExecutionState(
        execution_sid=sid,
        flow_sid=flow.flow_sid,
        flow_revision=flow.revision,
        context=context,
        started_at=now,
        expires_at=now + env.lifetime_seconds,
    )
    base = dict(context)
    run = Run(flow, state, env)
    with liquid.clock(env.now):
        source = flow.state(flow.initial_state)
        if source is None or source.type != "trigger":
            run.fatal(EngineError("no_trigger", "the flow has no trigger state"))
            return run.sprint(base)
        transition = source.transition(trigger.event)
        target = transition.next if transition else None
        run.guarded(lambda: run.follow(source, trigger.event, target, {}))
    return run.sprint(base)


def _own(state: ExecutionState) -> ExecutionState:
    # Nested containers are copied on write (``apply_in_place``), so shallow copies suffice.
    return replace(state, context=dict(state.context), frames=list(state.frames))


def resume(
    flow: Flow, state: ExecutionState, resume_input: ResumeInput, env: Environment
) -> Sprint:
    """Feed a reply, timeout, delivery failure or service-call result to a parked execution.

    An input the execution is not waiting for is recorded as an error and changes nothing.
    A resume at or after the lifetime expiry ends the execution.
    """
    run = Run(flow, _own(state), env)
    state = run.state
    if state.status != ACTIVE:
        run.errors.append(EngineError("not_active", "the execution has ended"))
        return run.sprint()
    if state.expires_at is not None and env.timestamp() >= state.expires_at:
        run.errors.append(
            EngineError(
                "expired",
                "the execution reached its lifetime",
                fatal=True,
                widget=state.parked_on,
                step_sid=state.last_step_sid,
            )
        )
        run.finish("EXPIRED")
        return run.sprint()
    with liquid.clock(env.now):
        try:
            _resume(run, resume_input)
        except Exception as exc:  # a widget hook bug must not escape the engine
            run.errors.append(
                EngineError(
                    "internal", f"{type(exc).__name__}: {exc}", fatal=True, widget=state.parked_on
                )
            )
            run.finish("ERROR")
    return run.sprint()


def _resume(run: Run, resume_input: ResumeInput) -> None:
    state, env = run.state, run.env
    for frame in state.frames:
        child = env.load_subflow(frame.flow_sid, str(frame.revision))
        if child is None:
            # The child revision is gone: its Run Subflow widget fails in the parent.
            run.flows.append(Flow(frame.flow_sid, frame.revision, "", {}, {}))
            state.parked_on = state.wait = state.pending = None
            error = EngineError(
                "subflow_missing",
                f"subflow {frame.flow_sid} revision {frame.revision} could not be loaded",
                None,
                frame.widget,
            )
            run.guarded(lambda error=error: run.fatal(error))
            return
        run.flows.append(child)
    name = state.parked_on
    source = run.flow.state(name)
    handler = widget_for(source.type) if source is not None else None
    if source is None or handler is None:
        run.errors.append(EngineError("not_parked", "no widget to resume", None, name))
        return
    outcome: Outcome | None
    if isinstance(resume_input, CallResult):
        if state.pending is None:
            run.errors.append(
                EngineError("unexpected_input", "no service call is pending", widget=name)
            )
            return
        outcome = run.call(source, handler, "on_result", resume_input)
        state.pending = None
    else:
        if state.wait is None or state.pending is not None:
            run.errors.append(
                EngineError(
                    "unexpected_input",
                    f"{type(resume_input).__name__} while not waiting",
                    widget=name,
                )
            )
            return
        outcome = run.call(source, handler, "on_resume", resume_input)
        if outcome is None:
            run.errors.append(
                EngineError(
                    "ignored_input",
                    f"{source.type} ignored {type(resume_input).__name__}",
                    widget=name,
                )
            )
            return
        state.wait = None
    state.parked_on = None
    run.guarded(lambda: (name, outcome))


def end(*args: Any) -> Sprint:
    """End an execution where it stands (REST ``Status=ended``): ``end(state, env)``.

    ``end(flow, state, env)`` is accepted too. No step is recorded.
    """
    if len(args) == 3:
        args = args[1:]
    if len(args) != 2 or not isinstance(args[0], ExecutionState):
        raise TypeError("end(state, env) or end(flow, state, env)")
    state, env = args
    run = Run(Flow("", 0, "", {}, {}), _own(state), env)
    if run.state.status == ACTIVE:
        run.finish("ENDED")
    return run.sprint()
