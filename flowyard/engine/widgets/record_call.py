"""Call Recording (``record-call``): start or stop recording the live call through the
platform (a ``recording`` service call, not TwiML); ``success`` with the Recording's fields,
``failed`` when the platform refuses.
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import flag
from .base import Call, Next, Outcome, Widget, WidgetRun, register

RECORDING_FAILED = 81030


@register
class RecordCall(Widget):
    type = "record-call"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        events = run.prop("recording_status_callback_events").split()
        return Call(
            "recording",
            {
                "record": flag(run.props.get("record_call")),
                "status_callback": run.prop("recording_status_callback").strip() or None,
                "status_callback_method": run.prop("recording_status_callback_method").strip()
                or None,
                "status_callback_events": events,
                "channels": run.prop("recording_channels").strip() or None,
                "trim": run.prop("trim").strip() or None,
            },
        )

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        data = dict(result.data or {})
        if result.ok:
            return Next("success", data)
        return Next(
            "failed",
            data,
            error=run.error(
                "recording_failed", result.error or "could not record", RECORDING_FAILED
            ),
        )
