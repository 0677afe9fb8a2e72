"""One engine call in progress: the state being advanced, the steps and errors it produced.

``Run.loop`` enters widgets and handles their outcomes until the execution ends, parks or
needs a service call; steps, limits, subflow frames and failures are handled here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .context import apply_in_place, subflow_context
from .environment import Environment
from .io import EngineError, Sprint, Step
from .liquid import Renderer, TemplateError
from .model import Flow, State
from .specs import WIDGET_SPECS
from .state import ACTIVE, ENDED, ExecutionState, Frame, ServiceCall, Wait
from .widgets import widget_for
from .widgets.base import (
    Call,
    End,
    EnterSubflow,
    Fail,
    Next,
    Outcome,
    Park,
    Widget,
    WidgetRun,
)

END = "Ended"
MAX_STEPS_CODE = 81000
UNSUPPORTED_CODE = 84002  # Twilio: "Workflow execution failed"
FAILURE_EVENTS = ("failed", "fail", "failure")
SAME_WIDGET_CODE = 81001

_RENDERERS: dict[tuple[int, str], Renderer] = {}


def _renderer(env: Environment) -> Renderer:
    key = (env.liquid_loop_limit, env.timezone)
    renderer = _RENDERERS.get(key)
    if renderer is None:
        renderer = _RENDERERS[key] = Renderer(loop_limit=key[0], timezone=key[1])
    return renderer


class Stop(Exception):
    """Unwinds the run loop once the execution stopped (limits)."""


class Run:
    """One engine call: the state being advanced and what it produced."""

    def __init__(self, flow: Flow, state: ExecutionState, env: Environment) -> None:
        self.flows = [flow]
        self.state = state
        self.env = env
        self.renderer = _renderer(env)
        self.steps: list[Step] = []
        self.errors: list[EngineError] = []
        # Set when the live context was swapped (subflow return): the next step carries it.
        self.swapped: dict[str, Any] | None = None

    @property
    def flow(self) -> Flow:
        return self.flows[-1]

    def sprint(self, base_context: dict[str, Any] | None = None) -> Sprint:
        state = self.state
        active = state.status == ACTIVE
        return Sprint(
            state=state,
            steps=self.steps,
            pending=state.pending if active else None,
            wait=state.wait if active else None,
            errors=self.errors,
            base_context=base_context,
        )

    # -- steps and endings ------------------------------------------------------------------

    def step(
        self,
        source: State,
        event: str,
        target: str,
        patch: dict[str, Any],
        match: int | None = None,
    ) -> None:
        """Record one transition, enforcing the step and same-widget limits."""
        state, env = self.state, self.env
        if self.swapped is not None:
            patch = {"context": self.swapped, **patch}
            self.swapped = None
        if state.step_count >= env.max_steps:
            apply_in_place(state.context, patch)
            reached = f"execution reached {env.max_steps} steps"
            self.stop("step_limit", reached, MAX_STEPS_CODE, source.name)
        runs = state.consecutive_runs + 1 if target == state.last_widget else 1
        if target != END and runs > env.max_same_widget_in_a_row:
            apply_in_place(state.context, patch)
            self.stop(
                "same_widget_limit",
                f"widget {target!r} ran {env.max_same_widget_in_a_row} times in a row",
                SAME_WIDGET_CODE,
                target,
            )
        apply_in_place(state.context, patch)
        frames = state.frames
        step = Step(
            sid=env.new_sid("FT"),
            name=event,
            transitioned_from=source.name,
            transitioned_to=target,
            widget_type=source.type,
            date=env.now(),
            patch=patch,
            flow_sid=self.flow.flow_sid,
            parent_step_sid=frames[-1].parent_step_sid if frames else None,
            match=match,
        )
        self.steps.append(step)
        state.step_count += 1
        state.consecutive_runs = runs
        state.last_widget = target
        state.last_step_sid = step.sid

    def finish(self, reason: str) -> None:
        state = self.state
        state.status = ENDED
        state.ended_reason = reason
        state.parked_on = None
        state.wait = None
        state.pending = None
        if state.frames:  # ended inside a subflow: the execution's context is the parent's
            state.context = dict(state.frames[0].parent_context)
            state.frames = []
            del self.flows[1:]

    def stop(self, kind: str, message: str, code: int, widget: str) -> None:
        state = self.state
        self.errors.append(EngineError(kind, message, code, widget, True, state.last_step_sid))
        self.finish(kind.upper())
        raise Stop

    def fatal(self, error: EngineError) -> tuple[str | None, Outcome | None]:
        """The current flow cannot go on: a subflow fails its Run Subflow widget, a top-level
        execution ends."""
        step_sid = self.state.last_step_sid
        if self.state.frames:
            self.errors.append(replace(error, fatal=False, step_sid=step_sid))
            return self.leave_subflow(None, error)
        self.errors.append(replace(error, fatal=True, step_sid=step_sid))
        self.finish("ERROR")
        return None, None

    # -- subflows -----------------------------------------------------------------------------

    def enter_subflow(
        self, source: State, outcome: EnterSubflow
    ) -> tuple[str | None, Outcome | None]:
        state, child = self.state, outcome.flow
        frame = Frame(
            flow_sid=child.flow_sid,
            revision=child.revision,
            widget=source.name,
            parent_context=state.context,
            parent_step_sid=state.last_step_sid,
        )
        context = subflow_context(
            state.context,
            flow_sid=child.flow_sid,
            parameters=outcome.parameters,
            parent_flow_sid=self.flow.flow_sid,
            parent_step_sid=state.last_step_sid,
        )
        state.frames.append(frame)
        self.flows.append(child)
        state.context = dict(context)
        trigger = child.state(child.initial_state)
        transition = trigger.transition("incomingParent") if trigger else None
        return self.follow(
            trigger or State(child.initial_state, "trigger", {}, ()),
            "incomingParent",
            transition.next if transition else None,
            {"context": context},
        )

    def leave_subflow(
        self, outputs: dict[str, Any] | None, error: EngineError | None
    ) -> tuple[str | None, Outcome | None]:
        state = self.state
        frame = state.frames.pop()
        self.flows.pop()
        state.context = dict(frame.parent_context)
        self.swapped = frame.parent_context
        handler = widget_for("run-subflow")
        source = self.flow.state(frame.widget)
        if handler is None or source is None:
            return self.fatal(EngineError("internal", "run-subflow widget vanished"))
        run = self.widget_run(source)
        return frame.widget, handler.on_subflow_end(run, outputs, error)

    # -- the loop -----------------------------------------------------------------------------

    def widget_run(self, source: State) -> WidgetRun:
        return WidgetRun(
            source, self.state.context, self.env, self.renderer, in_subflow=bool(self.state.frames)
        )

    def follow(
        self,
        source: State,
        event: str,
        target: str | None,
        patch: dict[str, Any],
        match: int | None = None,
    ) -> tuple[str | None, Outcome | None]:
        """Take ``event`` out of ``source`` (``match``: which of a split's conditions): step
        to the target, or end this flow."""
        if target is not None and target not in self.flow.states:
            self.errors.append(
                EngineError(
                    "dangling_transition",
                    f"{source.name}.{event} leads to {target!r}, which is not in the flow",
                    widget=source.name,
                )
            )
            target = None
        self.step(source, event, target or END, patch, match)
        if target is not None:
            return target, None
        if self.state.frames:
            variables = (self.state.context.get("flow") or {}).get("variables") or {}
            return self.leave_subflow(dict(variables), None)
        self.finish("FLOW_END")
        return None, None

    def handle(
        self, source: State, handler: Widget, outcome: Outcome
    ) -> tuple[str | None, Outcome | None]:
        state = self.state
        if isinstance(outcome, Fail):
            if handler.failure_event is None:
                return self.fatal(outcome.error)
            outcome = Next(handler.failure_event, {}, error=outcome.error)
        if isinstance(outcome, Next):
            if outcome.error is not None:
                # Recorded before the step (a limit may stop it) and named after it.
                self.errors.append(outcome.error)
                at = len(self.errors) - 1
            patch: dict[str, Any] = {"widgets": {source.name: outcome.outputs or {}}}
            if outcome.variables:
                patch["variables"] = outcome.variables
            if outcome.channel:
                patch["channel"] = outcome.channel
            match = None
            if outcome.transition is not None:
                target = outcome.transition.next
                match = source.matches.index(outcome.transition)
            else:
                transition = source.transition(outcome.event)
                target = transition.next if transition else None
            try:
                return self.follow(source, outcome.event, target, patch, match)
            finally:
                last = self.steps[-1] if self.steps else None
                if outcome.error is not None and last and last.transitioned_from == source.name:
                    self.errors[at] = replace(self.errors[at], step_sid=last.sid)
        if isinstance(outcome, Call):
            state.parked_on = source.name
            state.pending = ServiceCall(outcome.kind, source.name, outcome.request)
            return None, None
        if isinstance(outcome, Park):
            until = state.expires_at
            if outcome.seconds is not None:
                deadline = self.env.timestamp() + outcome.seconds
                until = deadline if until is None else min(until, deadline)
            state.parked_on = source.name
            state.wait = Wait(outcome.kind, source.name, until)
            if outcome.live is not None:
                apply_in_place(state.context, {"widgets": {source.name: outcome.live}})
            return None, None
        if isinstance(outcome, EnterSubflow):
            return self.enter_subflow(source, outcome)
        if isinstance(outcome, End):
            self.finish("ENDED")
            return None, None
        return self.fatal(
            EngineError("internal", f"unknown outcome {outcome!r}", None, source.name)
        )

    def call(self, source: State, handler: Widget, hook: str, *args: Any) -> Outcome:
        """Run a widget hook; template errors fail the widget, bugs fail the execution."""
        run = self.widget_run(source)
        try:
            return getattr(handler, hook)(run, *args)
        except TemplateError as exc:
            return Fail(EngineError("liquid", str(exc), exc.code, source.name))

    def loop(self, name: str | None, outcome: Outcome | None) -> None:
        while name is not None:
            source = self.flow.state(name)
            handler = widget_for(source.type) if source is not None else None
            if source is None or handler is None:
                name, outcome = self.unsupported(name, source)
                continue
            if outcome is None:
                outcome = self.call(source, handler, "enter")
            name, outcome = self.handle(source, handler, outcome)

    def unsupported(self, name: str, source: State | None) -> tuple[str | None, Outcome | None]:
        """A widget type the validator accepts but this engine cannot run: it takes its
        failure transition (``failed``/``fail``) with an error, as a widget that failed at
        run time does; a type with no failure event ends the execution."""
        kind = source.type if source is not None else "?"
        error = EngineError(
            "unsupported_widget",
            f"widget type {kind!r} is not supported by this engine",
            UNSUPPORTED_CODE,
            name,
        )
        spec = WIDGET_SPECS.get(kind)
        event = next((e for e in FAILURE_EVENTS if spec and e in spec.events), None)
        if source is None or event is None:
            return self.fatal(error)
        return self.handle(source, Widget(), Next(event, {}, error=error))

    def guarded(self, first: Callable[[], tuple[str | None, Outcome | None]]) -> None:
        """Run ``first`` then the loop; a limit stop or an unexpected exception (a widget
        bug) becomes a clean end instead of escaping the engine."""
        try:
            self.loop(*first())
        except Stop:
            pass
        except Exception as exc:
            self.errors.append(
                EngineError(
                    "internal",
                    f"{type(exc).__name__}: {exc}",
                    fatal=True,
                    widget=self.state.parked_on,
                    step_sid=self.state.last_step_sid,
                )
            )
            self.finish("ERROR")
