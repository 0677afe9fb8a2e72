"""Make Outgoing Call (``make-outgoing-call-v2``): place a call whose TwiML URL is the flow
webhook, then wait for it: ``answered`` (the call's first webhook), ``busy``, ``noAnswer`` or
``failed`` (its status callback). Outputs are the call's parameters, without ``FlowEvent``
(SARA-VCR ``call_user``).
"""

from __future__ import annotations

from typing import Any

from ..io import CallResult
from ._messaging import channel_address, contact_address
from ._voice import ANSWER, callback, flag
from .base import Call, Next, Outcome, Widget, WidgetRun, register

CALL_FAILED = 81012
_STATUS = {"busy": "busy", "no-answer": "noAnswer", "failed": "failed", "canceled": "failed"}
_AMD = (
    "machine_detection_timeout",
    "machine_detection_speech_threshold",
    "machine_detection_speech_end_threshold",
    "machine_detection_silence_timeout",
)


@register
class MakeOutgoingCallV2(Widget):
    type = "make-outgoing-call-v2"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        props = run.props
        request: dict[str, Any] = {
            "to": run.prop("to").strip() or contact_address(run),
            "from": run.prop("from").strip() or channel_address(run),
            "timeout": run.number("timeout"),
            "record": flag(props.get("record")),
            "recording_channels": run.prop("recording_channels").strip() or None,
            "recording_status_callback": run.prop("recording_status_callback").strip() or None,
            "trim": run.prop("trim").strip() or None,
            "send_digits": run.prop("send_digits").strip() or None,
            "sip_auth_username": run.prop("sip_auth_username").strip() or None,
            "sip_auth_password": run.prop("sip_auth_password").strip() or None,
        }
        if flag(props.get("detect_answering_machine")):
            request["machine_detection"] = run.prop("machine_detection").strip() or "Enable"
            for key in _AMD:
                request[key] = run.number(key)
        return Call("call", request)

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is not None:
            params = cb.params
            event = _STATUS.get(str(params.get("CallStatus") or ""), "answered")
            return Next(event, params)
        data = dict(result.data or {})
        if not result.ok:
            return Next(
                "failed",
                data,
                error=run.error("call_failed", result.error or "could not place call", CALL_FAILED),
            )
        return Call(ANSWER, {"call_sid": data.get("Sid") or data.get("sid"), "expects": []})
