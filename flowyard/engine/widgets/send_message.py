"""Send Message (``send-message``): one Messages API call, then ``sent`` or ``failed``.

``sent`` fires when the API accepts the message, with ``outbound`` = the Message resource in
Studio's PascalCase (SARA-VCR shows ``Status: accepted``); a refused message takes ``failed``
with whatever resource came back (AI-SKILL), error 81011.
"""

from __future__ import annotations

from ..io import CallResult
from ._messaging import contact_address, message_request
from .base import Call, Next, Outcome, Widget, WidgetRun, register

SEND_FAILED = 81011


@register
class SendMessage(Widget):
    type = "send-message"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        to = run.prop("to").strip() or contact_address(run)
        return Call("message", message_request(run, to=to))

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        if result.ok:
            return Next("sent", {"outbound": dict(result.data or {})})
        outputs = {"outbound": dict(result.data)} if result.data else {}
        return Next(
            "failed",
            outputs,
            error=run.error(
                "message_failed", result.error or "Failed to send message", SEND_FAILED
            ),
        )
