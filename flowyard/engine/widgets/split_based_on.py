"""Split Based On... (``split-based-on``): first ``match`` whose conditions hold, else
``noMatch``; its widget entry is always ``{}`` (SARA-VCR). A regex condition over its budget
does not hold (see ``conditions``); the step then carries a non-fatal ``regex_budget`` error."""

from __future__ import annotations

from ..conditions import choose
from .base import Next, Outcome, Widget, WidgetRun, register


@register
class SplitBasedOn(Widget):
    type = "split-based-on"

    def enter(self, run: WidgetRun) -> Outcome:
        problems: list[str] = []
        winner = choose(
            run.state, run.render, regex_fullmatch=run.env.regex_fullmatch, problems=problems
        )
        error = run.error("regex_budget", "; ".join(problems)) if problems else None
        if winner is None:
            return Next("noMatch", {}, error=error)
        return Next("match", {}, transition=winner, error=error)
