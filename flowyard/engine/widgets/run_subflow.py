"""Run Subflow (``run-subflow``): the child's ``incomingParent`` branch runs inside this
execution; ``completed`` exposes the child's ``flow.variables`` as ``widgets.<name>.*``.

``failed`` when the child cannot be loaded, fails on its own, or this widget is itself inside
a subflow (Studio error 81024: "Subflow is trying to invoke another Subflow").
"""

from __future__ import annotations

from typing import Any

from ..io import EngineError
from .base import EnterSubflow, Next, Outcome, Widget, WidgetRun, key_values, register

SUBFLOW_ERROR = 81024


@register
class RunSubflow(Widget):
    type = "run-subflow"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        if run.in_subflow:
            return Next(
                "failed",
                {},
                error=run.error(
                    "nested_subflow", "Subflow is trying to invoke another Subflow", SUBFLOW_ERROR
                ),
            )
        # ``flow_sid`` must be a literal SID (the validator refuses Liquid there).
        flow_sid = str(run.props.get("flow_sid") or "").strip()
        revision = str(run.props.get("flow_revision") or "LatestPublished").strip()
        try:
            child = run.env.load_subflow(flow_sid, revision) if flow_sid else None
        except Exception as exc:  # the host's loader failing is this widget failing
            child, problem = None, f"loading subflow {flow_sid} failed: {exc}"
        else:
            problem = f"subflow {flow_sid or '(none)'} revision {revision} could not be loaded"
        if child is None:
            return Next("failed", {}, error=run.error("subflow_missing", problem, SUBFLOW_ERROR))
        return EnterSubflow(child, key_values(run, run.props.get("parameters")))

    def on_subflow_end(
        self, run: WidgetRun, outputs: dict[str, Any] | None, error: EngineError | None
    ) -> Outcome:
        if error is None:
            return Next("completed", dict(outputs or {}))
        return Next(
            "failed",
            {},
            error=EngineError(
                kind="subflow_failed",
                message=f"subflow failed: {error.message}",
                code=SUBFLOW_ERROR,
                widget=run.name,
            ),
        )
