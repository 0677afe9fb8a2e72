"""Say/Play (``say-play``): speak, play a URL or send DTMF, then ``audioComplete``.

TwiML: ``<Say voice language loop>`` / ``<Play loop>`` / ``<Play digits>`` followed by a
``<Redirect>`` back to the flow webhook (studio-runtime.md 2.10).
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import back, callback, no_call, outputs, prompt, twiml
from .base import Next, Outcome, Widget, WidgetRun, register

EVENT = "audioComplete"


@register
class SayPlay(Widget):
    type = "say-play"

    def enter(self, run: WidgetRun) -> Outcome:
        return twiml([*prompt(run), back(EVENT)], [EVENT])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        return Next(EVENT, outputs(cb.params, EVENT))
