"""Split Based On... (``split-based-on``): first ``match`` whose conditions hold, else
``noMatch``; its widget entry is always ``{}`` (SARA-VCR)."""

from __future__ import annotations

from ..conditions import choose
from .base import Next, Outcome, Widget, WidgetRun, register


@register
class SplitBasedOn(Widget):
    type = "split-based-on"

    def enter(self, run: WidgetRun) -> Outcome:
        winner = choose(run.state, run.render, regex_fullmatch=run.env.regex_fullmatch)
        if winner is None:
            return Next("noMatch", {})
        return Next("match", {}, transition=winner)
