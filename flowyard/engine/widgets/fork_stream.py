"""Fork Stream (``fork-stream``): ``<Start><Stream>`` (or ``<Siprec>``) the call's media, or
``<Stop>`` it, then carry on (``next``; no outputs).
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import back, callback, no_call, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, key_values, register

EVENT = "next"


@register
class ForkStream(Widget):
    type = "fork-stream"

    def enter(self, run: WidgetRun) -> Outcome:
        name = run.prop("stream_name").strip()
        siprec = run.prop("stream_transport_type").strip() == "siprec"
        noun = "siprec" if siprec else "stream"
        if run.prop("stream_action", "start").strip() == "stop":
            command = verb("stop", children=[verb(noun, name=name)])
        else:
            parameters = [
                verb("parameter", name=k, value=str(v))
                for k, v in key_values(run, run.props.get("stream_parameters")).items()
            ]
            target = (
                {"connector_name": run.prop("stream_connector").strip()}
                if siprec
                else {"url": run.prop("stream_url").strip()}
            )
            stream = verb(
                noun,
                children=parameters,
                name=name,
                track=run.prop("stream_track").strip(),
                **target,
            )
            command = verb("start", children=[stream])
        return twiml([command, back(EVENT)], [EVENT])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        if callback(result) is None:
            return no_call(run, result)
        return Next(EVENT, {})
