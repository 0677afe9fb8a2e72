"""Send to Autopilot (``send-to-auto-pilot``): Autopilot is retired, so it always fails.

Kept so that old flows load and run their ``failure`` branch, with a step error saying why.
"""

from __future__ import annotations

from .base import Next, Outcome, Widget, WidgetRun, register


@register
class SendToAutoPilot(Widget):
    type = "send-to-auto-pilot"
    failure_event = "failure"

    def enter(self, run: WidgetRun) -> Outcome:
        return Next(
            "failure",
            {},
            error=run.error(
                "retired_widget",
                "Autopilot was retired by Twilio; Send to Autopilot takes its 'failure' transition",
            ),
        )
