"""Conversation Relay (``run-conversation-relay``): ``<Connect action><ConversationRelay/>``.

The call is handed to the WebSocket application at ``url`` (``ws://``/``wss://``) with the
widget's voice and speech settings as ``<ConversationRelay>`` attributes and ``parameters``
as ``<Parameter>`` children. When the session ends Twilio posts the ``<Connect>`` action
(``SessionId``, ``SessionStatus``, ``SessionDuration``, ``HandoffData`` the application sent
with its ``end`` message): ``success``, or ``failed`` for a failed session or an error code.
"""

from __future__ import annotations

import contextlib
import json
from urllib.parse import urlsplit

from ..io import CallResult
from ._voice import callback, no_call, outputs, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, key_values, register

ACTION = "success"

# Studio's property names are the TwiML attributes in snake_case (the twilio.twiml keywords).
_ATTRIBUTES = (
    "welcome_greeting",
    "welcome_greeting_interruptible",
    "tts_provider",
    "voice",
    "language",
    "tts_language",
    "transcription_language",
    "transcription_provider",
    "speech_model",
    "profanity_filter",
    "dtmf_detection",
    "interruptible",
    "preemptible",
    "partial_prompts",
    "hints",
    "intelligence_service",
    "report_input_during_agent_speech",
)


def _attribute(run: WidgetRun, key: str) -> str | None:
    value = run.props.get(key)
    if isinstance(value, bool):  # Studio stores some toggles as JSON booleans
        return "true" if value else "false"
    return run.prop(key).strip() or None


@register
class RunConversationRelay(Widget):
    type = "run-conversation-relay"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        url = run.prop("url").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            message = f"ConversationRelay url {url!r} is not a ws:// or wss:// URL"
            return Next("failed", {}, error=run.error("invalid_url", message))
        attrs = {key: _attribute(run, key) for key in _ATTRIBUTES}
        children = [
            verb("parameter", name=key, value=v if isinstance(v, str) else json.dumps(v))
            for key, v in key_values(run, run.props.get("parameters")).items()
        ]
        relay = verb("conversation_relay", url=url, children=children, **attrs)
        return twiml([verb("connect", action=ACTION, children=[relay])], [ACTION])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        params = dict(cb.params)
        status = str(params.get("SessionStatus") or "").strip().lower()
        failed = status in ("failed", "error") or bool(params.get("ErrorCode"))
        event = "failed" if failed else "success"
        data = params.get("HandoffData")
        if isinstance(data, str) and data.strip():
            # The application's handoff JSON, readable as widgets.<name>.HandoffData.x
            with contextlib.suppress(ValueError):
                params["HandoffData"] = json.loads(data)
        return Next(event, outputs(params, event))
