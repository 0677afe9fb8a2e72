"""Gather Input On Call (``gather-input-on-call``): ``keypress``, ``speech`` or ``timeout``.

``<Gather input=…>`` wraps the prompt; ``input`` follows the wired transitions (wiring
"User said something" is what turns speech recognition on in Studio). A ``<Redirect>`` after
the Gather yields ``timeout`` when the caller says and presses nothing.
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import back, callback, no_call, outputs, prompt, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, register

ACTION = "keypress"


def _wired(run: WidgetRun, event: str) -> bool:
    transition = run.state.transition(event)
    return transition is not None and transition.next is not None


@register
class GatherInputOnCall(Widget):
    type = "gather-input-on-call"

    def enter(self, run: WidgetRun) -> Outcome:
        props = run.props
        modes = [m for m, e in (("dtmf", "keypress"), ("speech", "speech")) if _wired(run, e)]
        speech = "speech" in modes
        attrs = {
            "input": " ".join(modes or ["dtmf"]),
            "timeout": run.number("timeout") or 5,
            "num_digits": run.number("number_of_digits"),
            "speech_timeout": run.prop("speech_timeout").strip() if speech else None,
            "language": run.prop("gather_language").strip() if speech else None,
            "hints": run.prop("hints").strip() if speech else None,
            "speech_model": run.prop("speech_model").strip() if speech else None,
            "profanity_filter": run.prop("profanity_filter").strip() if speech else None,
        }
        gather = verb("gather", action=ACTION, children=prompt(run), **attrs)
        if "finish_on_key" in props:  # "" is meaningful: no finishing key
            gather["attrs"]["finish_on_key"] = run.prop("finish_on_key")
        return twiml([gather, back("timeout")], [ACTION, "timeout"])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        params = cb.params
        if cb.event != "timeout" and params.get("Digits"):
            event = "keypress"
        elif cb.event != "timeout" and params.get("SpeechResult"):
            event = "speech"
        else:
            event = "timeout"
        return Next(event, outputs(params, event))
