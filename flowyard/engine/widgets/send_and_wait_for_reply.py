"""Send & Wait For Reply (``send-and-wait-for-reply``).

Sends through a ``message`` call, then waits (``Wait.kind == "reply"``) for the first of:
a reply (``incomingMessage``: ``inbound`` = the raw webhook params), the ``timeout`` property
in seconds (string or int, default 3600), or a failed/undelivered status callback
(``deliveryFailure``: callback params merged at the top of the entry, as SARA-VCR records).
The entry shows ``outbound`` while it waits.
"""

from __future__ import annotations

from ..io import CallResult, DeliveryFailure, Reply, Timeout
from ._messaging import contact_address, message_request
from .base import Call, Next, Outcome, Park, Signal, Widget, WidgetRun, register, seconds
from .send_message import SEND_FAILED


@register
class SendAndWaitForReply(Widget):
    type = "send-and-wait-for-reply"
    failure_event = "deliveryFailure"

    def enter(self, run: WidgetRun) -> Outcome:
        # No ``to`` property in Studio: the reply target is always the contact.
        to = run.prop("to").strip() or contact_address(run)
        return Call("message", message_request(run, to=to))

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        outbound = dict(result.data or {})
        if not result.ok:
            return Next(
                "deliveryFailure",
                {"outbound": outbound},
                error=run.error(
                    "message_failed", result.error or "Failed to send message", SEND_FAILED
                ),
            )
        timeout = seconds(run.prop("timeout"), run.env.default_reply_timeout)
        return Park("reply", timeout, live={"outbound": outbound})

    def on_resume(self, run: WidgetRun, signal: Signal) -> Outcome | None:
        entry = run.entry
        if isinstance(signal, Reply):
            return Next("incomingMessage", {**entry, "inbound": dict(signal.params)})
        if isinstance(signal, Timeout):
            return Next("timeout", entry)
        if isinstance(signal, DeliveryFailure):
            sent = (entry.get("outbound") or {}).get("Sid")
            about = signal.params.get("MessageSid") or signal.params.get("SmsSid")
            if sent and about and sent != about:
                return None  # a callback for another message of this execution
            return Next("deliveryFailure", {**entry, **signal.params})
        return None
