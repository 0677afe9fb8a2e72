"""What the voice widgets share: TwiML described as data, and the callbacks that answer it.

A voice widget never writes XML. It asks the host for a ``twiml`` service call whose request
lists verbs as plain dicts; the host renders them with ``twilio.twiml``, answers the call's
webhook, and resumes the widget with a ``CallResult`` whose ``data["callback"]`` holds what
Twilio posted back (see ``Callback``). Verb dicts:

``{"verb": "say", "body": "Hi", "attrs": {"voice": "alice"}, "children": [...],
"action": "audioComplete"}`` — ``verb`` names the ``twilio.twiml`` method, ``attrs`` are its
snake_case keyword arguments, ``action`` (when present) is the ``FlowEvent`` the host puts on
the verb's ``action`` URL back to the flow webhook. ``{"verb": "redirect", "event": "x"}``
redirects to the flow webhook with ``FlowEvent=x``; ``{"verb": "raw", "xml": "<Response>..."}``
splices TwiML a Function returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..io import CallResult
from .base import Call, Fail, WidgetRun

TWIML = "twiml"  # answer the live call's webhook with these verbs, wait for the callback
ANSWER = "answer"  # wait for a placed call to be answered (or to fail)
NO_CALL = "no call is in progress for this execution"


@dataclass(frozen=True, slots=True)
class Callback:
    """What Twilio posted back: ``event`` (the URL's ``FlowEvent``), the posted ``params``,
    the other query parameters of the URL, and the request the widget made."""

    event: str
    params: dict[str, Any]
    query: dict[str, Any]
    request: dict[str, Any]


def callback(result: CallResult) -> Callback | None:
    """The voice callback carried by ``result``, or None for another kind of result."""
    data = result.data or {}
    raw = data.get("callback") if result.ok else None
    if not isinstance(raw, dict):
        return None
    return Callback(
        event=str(raw.get("event") or ""),
        params=dict(raw.get("params") or {}),
        query=dict(raw.get("query") or {}),
        request=dict(raw.get("request") or {}),
    )


def no_call(run: WidgetRun, result: CallResult) -> Fail:
    return Fail(run.error("no_call", result.error or NO_CALL))


def verb(
    tag: str,
    body: str | None = None,
    /,
    *,
    action: str | None = None,
    children: list[dict[str, Any]] | None = None,
    **attrs: Any,
) -> dict[str, Any]:
    """One TwiML verb or noun; empty attributes are left out, as Studio leaves them."""
    item: dict[str, Any] = {
        "verb": tag,
        "attrs": {k: v for k, v in attrs.items() if v is not None and v != ""},
    }
    if body is not None:
        item["body"] = body
    if action is not None:
        item["action"] = action
    if children:
        item["children"] = children
    return item


def back(event: str) -> dict[str, Any]:
    """A ``<Redirect>`` to the flow webhook with ``FlowEvent=event``."""
    return {"verb": "redirect", "event": event}


def twiml(verbs: list[dict[str, Any]], expects: list[str], **extra: Any) -> Call:
    """Answer the call with ``verbs``; ``expects`` are the FlowEvents that resume this widget
    (any other webhook fetch for the call is answered with the same verbs again)."""
    return Call(TWIML, {"verbs": verbs, "expects": expects, **extra})


def timer(run: WidgetRun, seconds: int | None) -> dict[str, Any]:
    """The ``twiml`` request's deadline: after ``seconds`` the widget gets a ``timeout``
    callback (the host pulls the call back); none when ``seconds`` is empty or 0."""
    return {"timeout_at": run.env.timestamp() + seconds} if seconds and seconds > 0 else {}


def outputs(params: dict[str, Any], event: str) -> dict[str, Any]:
    """Studio stores the raw callback parameters plus the event delivered (SARA-VCR)."""
    return {**params, "FlowEvent": event}


def flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def prompt(run: WidgetRun) -> list[dict[str, Any]]:
    """The ``say``/``play``/``digits`` of a Say/Play or Gather, with voice, language, loop."""
    loop = run.number("loop")
    digits = run.prop("digits").strip()
    if digits:
        return [verb("play", digits=digits)]
    play = run.prop("play").strip()
    if play:
        return [verb("play", play, loop=loop)]
    text = run.prop("say")
    if not text.strip():
        return []
    voice = run.prop("voice").strip()
    language = run.prop("language").strip()
    return [verb("say", text, voice=voice, language=language, loop=loop)]


def on_call(run: WidgetRun) -> bool:
    """Whether the execution controls a call: started by one, or placed one that answered."""
    context = run.context
    if "call" in (context.get("trigger") or {}):
        return True
    widgets = context.get("widgets") or {}
    return any(isinstance(entry, dict) and "CallSid" in entry for entry in widgets.values())


def hung_up(params: dict[str, Any]) -> bool:
    """The caller's leg ended: Twilio posts the verb's action with ``CallStatus=completed``."""
    return params.get("CallStatus") in ("completed", "canceled")


# ``<Enqueue>`` QueueResult → event (studio-runtime.md 2.16, inferred).
_QUEUE = {
    "bridged": "callComplete",
    "hangup": "callComplete",
    "error": "failedToEnqueue",
    "system-error": "failedToEnqueue",
}


def queue_outcome(run: WidgetRun, cb: Callback) -> tuple[str, dict[str, Any]]:
    event = _QUEUE.get(str(cb.params.get("QueueResult") or ""), "callFailure")
    return event, outputs(cb.params, event)
