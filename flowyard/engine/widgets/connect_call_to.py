"""Connect Call To (``connect-call-to``): ``<Dial>`` a number, numbers, client, conference,
SIM or SIP URI; ``callCompleted`` when control returns, ``hangup`` when the caller hung up.
"""

from __future__ import annotations

from typing import Any

from ..io import CallResult
from ._voice import callback, flag, hung_up, no_call, outputs, twiml, verb
from .base import Fail, Next, Outcome, Widget, WidgetRun, register

ACTION = "callCompleted"


def _nouns(run: WidgetRun, noun: str, to: str) -> list[dict[str, Any]] | None:
    if noun == "number":
        return [verb("number", to)]
    if noun == "number-multi":
        return [verb("number", n.strip()) for n in to.split(",") if n.strip()]
    if noun == "client":
        return [verb("client", to)]
    if noun == "conference":
        return [verb("conference", to)]
    if noun == "sim":
        return [verb("sim", to)]
    if noun == "sip":
        uri = run.prop("sip_endpoint").strip() or to
        return [
            verb(
                "sip",
                uri,
                username=run.prop("sip_username").strip(),
                password=run.prop("sip_password").strip(),
            )
        ]
    return None


@register
class ConnectCallTo(Widget):
    type = "connect-call-to"

    def enter(self, run: WidgetRun) -> Outcome:
        noun = run.prop("noun", "number").strip() or "number"
        nouns = _nouns(run, noun, run.prop("to").strip())
        if not nouns:
            return Fail(run.error("invalid_noun", f"cannot connect a call to {noun!r}"))
        dial = verb(
            "dial",
            action=ACTION,
            children=nouns,
            caller_id=run.prop("caller_id").strip(),
            record="record-from-answer" if flag(run.props.get("record")) else None,
            timeout=run.number("timeout"),
            time_limit=run.number("time_limit"),
        )
        return twiml([dial], [ACTION])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        event = "hangup" if hung_up(cb.params) else ACTION
        return Next(event, outputs(cb.params, event))
