"""Connect Virtual Agent (``connect-virtual-agent``): ``<Connect><VirtualAgent>``; ``return``
when the agent hands the call back, ``hangup`` when the caller hung up.
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import callback, hung_up, no_call, outputs, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, register

ACTION = "return"


@register
class ConnectVirtualAgent(Widget):
    type = "connect-virtual-agent"

    def enter(self, run: WidgetRun) -> Outcome:
        agent = verb(
            "virtual_agent",
            connector_name=run.prop("connector").strip(),
            language=run.prop("language").strip(),
            sentiment_analysis=run.prop("sentiment_analysis").strip(),
            status_callback=run.prop("status_callback").strip(),
        )
        return twiml([verb("connect", action=ACTION, children=[agent])], [ACTION])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        event = "hangup" if hung_up(cb.params) else ACTION
        return Next(event, outputs(cb.params, event))
