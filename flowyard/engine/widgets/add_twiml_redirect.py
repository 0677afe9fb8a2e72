"""TwiML Redirect (``add-twiml-redirect``): hand the call or the message to another TwiML URL
until it redirects back with ``FlowEvent=return`` (its other query parameters become the
outputs), ``timeout`` after ``timeout`` seconds (default 14400), ``fail`` when the URL is
unusable.

``timeout: 0`` is "0 if returning control is not desired" (W-TWIML): the call is handed over
for good. The request says ``handoff``; once the host has answered the call with the
``<Redirect>``, the execution ends there, with no step out of the widget (docs/fidelity.md).

On a messaging execution the host plays Twilio's part (the inbound-message webhook was
answered long ago): a ``twiml_fetch`` call fetches the URL, sends its ``<Message>`` verbs and
follows its ``<Redirect>`` verbs (flowyard/platform/messaging_twiml.py). Its result says
whether control ``returned``; if not, the widget waits for its timeout, or with
``timeout: 0`` the execution ends once the TwiML was carried out.
"""

from __future__ import annotations

from typing import Any

from ..io import CallResult, Timeout
from ._http import valid_url
from ._messaging import channel_address, contact_address
from ._voice import callback, no_call, on_call, timer, twiml, verb
from .base import Call, End, Next, Outcome, Park, Signal, Widget, WidgetRun, register

HIDDEN = ("FlowEvent", "executionSid")
TWIML_FETCH = "twiml_fetch"  # the host fetches and carries out Messaging TwiML
WAITING = "twiml_return"
FETCH_FAILED = 11200  # Twilio: "HTTP retrieval failure", when the host names no code


@register
class AddTwimlRedirect(Widget):
    type = "add-twiml-redirect"
    failure_event = "fail"

    def enter(self, run: WidgetRun) -> Outcome:
        url = run.prop("url").strip()
        if not valid_url(url):
            return Next("fail", {}, error=run.error("invalid_url", f"{url!r} is not a valid URL"))
        method = run.prop("method", "POST").strip().upper() or "POST"
        timeout = _timeout(run)
        if not on_call(run):
            return Call(TWIML_FETCH, _fetch_request(run, url, method))
        verbs = [verb("redirect", url, method=method)]
        if timeout == 0:
            return twiml(verbs, [], handoff=True)
        return twiml(verbs, ["return", "timeout"], **timer(run, timeout))

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        data = result.data or {}
        if "returned" in data or "error_code" in data or not on_call(run):
            return _fetched(run, result)
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        if cb.event == "timeout":
            return Next("timeout", {})
        return Next("return", {k: v for k, v in cb.query.items() if k not in HIDDEN})

    def on_resume(self, run: WidgetRun, signal: Signal) -> Outcome | None:
        # Only the messaging wait parks; a message from the contact meanwhile is not a return.
        return Next("timeout", {}) if isinstance(signal, Timeout) else None


def _timeout(run: WidgetRun) -> int:
    timeout = run.number("timeout")
    return 14400 if timeout is None or timeout < 0 else timeout


def _fetch_request(run: WidgetRun, url: str, method: str) -> dict[str, Any]:
    """What Twilio would send the URL: the inbound message's parameters (a REST-started
    execution has none; it gets To/From as a message to the flow's number would)."""
    trigger = run.context.get("trigger") or {}
    message = trigger.get("message")
    contact, channel = contact_address(run), channel_address(run)
    if isinstance(message, dict) and message:
        params = {k: str(v) for k, v in message.items() if isinstance(v, str | int | float)}
    else:
        params = {"From": contact, "To": channel}
    flow = run.context.get("flow") or {}
    return {
        "url": url,
        "method": method,
        "params": params,
        "to": contact,
        "from": channel,
        "flow_sid": str(flow.get("flow_sid") or ""),
    }


def _fetched(run: WidgetRun, result: CallResult) -> Outcome:
    data = result.data or {}
    if not result.ok:
        code = data.get("error_code")
        code = code if isinstance(code, int) else FETCH_FAILED
        message = result.error or "the TwiML URL could not be carried out"
        return Next("fail", {}, error=run.error("twiml_failed", message, code))
    if data.get("returned"):
        query = data.get("query") or {}
        return Next("return", {k: v for k, v in query.items() if k not in HIDDEN})
    timeout = _timeout(run)
    if timeout == 0:
        return End()
    return Park(WAITING, timeout)
