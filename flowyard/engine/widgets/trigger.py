"""Trigger (``trigger``): the runner starts executions from it; it is never a target."""

from __future__ import annotations

from .base import Fail, Outcome, Widget, WidgetRun, register


@register
class TriggerWidget(Widget):
    type = "trigger"

    def enter(self, run: WidgetRun) -> Outcome:
        # Studio allows exactly one trigger and no transition into it (W-TRIG).
        return Fail(run.error("invalid_transition", "a transition cannot lead to the Trigger"))
