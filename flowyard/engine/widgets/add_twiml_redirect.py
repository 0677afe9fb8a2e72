"""TwiML Redirect (``add-twiml-redirect``): hand the call to another TwiML URL until it
redirects back with ``FlowEvent=return`` (its other query parameters become the outputs),
``timeout`` after ``timeout`` seconds (default 14400; 0 waits without a timer), ``fail`` when
the URL is unusable.
"""

from __future__ import annotations

from ..io import CallResult
from ._http import valid_url
from ._voice import callback, no_call, timer, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, register

HIDDEN = ("FlowEvent", "executionSid")


@register
class AddTwimlRedirect(Widget):
    type = "add-twiml-redirect"
    failure_event = "fail"

    def enter(self, run: WidgetRun) -> Outcome:
        url = run.prop("url").strip()
        if not valid_url(url):
            return Next("fail", {}, error=run.error("invalid_url", f"{url!r} is not a valid URL"))
        method = run.prop("method", "POST").strip().upper() or "POST"
        timeout = run.number("timeout")
        timeout = 14400 if timeout is None or timeout < 0 else timeout
        verbs = [verb("redirect", url, method=method)]
        return twiml(verbs, ["return", "timeout"], **timer(run, timeout))

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        if cb.event == "timeout":
            return Next("timeout", {})
        return Next("return", {k: v for k, v in cb.query.items() if k not in HIDDEN})
