"""Set Variables (``set-variables``): each key into ``flow.variables`` and ``widgets.<name>``.

Values are rendered against the context as it was before the step (Studio sets variables at
the end of a step) and stored as strings, as Studio's recordings show, unless the item is
marked "Parse as JSON".
"""

from __future__ import annotations

from .base import Next, Outcome, Widget, WidgetRun, key_values, register


@register
class SetVariables(Widget):
    type = "set-variables"

    def enter(self, run: WidgetRun) -> Outcome:
        values = key_values(run, run.props.get("variables"))
        return Next("next", values, variables=dict(values))
