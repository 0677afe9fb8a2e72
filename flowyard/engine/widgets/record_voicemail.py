"""Record Voicemail (``record-voicemail``): ``recordingComplete``, ``noAudio`` or ``hangup``.

Twilio skips the ``<Record>`` action when nothing was recorded and goes on to the next verb,
so a ``<Redirect>`` after it yields ``noAudio``; a hang-up posts the action with
``Digits=hangup``.
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import back, callback, flag, no_call, outputs, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, register

ACTION = "recordingComplete"


@register
class RecordVoicemail(Widget):
    type = "record-voicemail"

    def enter(self, run: WidgetRun) -> Outcome:
        props = run.props
        record = verb(
            "record",
            action=ACTION,
            timeout=run.number("timeout"),
            max_length=run.number("max_length"),
            transcribe=True if flag(props.get("transcribe")) else None,
            transcribe_callback=run.prop("transcription_callback_url").strip(),
            recording_status_callback=run.prop("recording_status_callback_url").strip(),
            trim=run.prop("trim").strip(),
            play_beep=run.prop("play_beep").strip(),
        )
        if "finish_on_key" in props:
            record["attrs"]["finish_on_key"] = run.prop("finish_on_key")
        return twiml([record, back("noAudio")], [ACTION, "noAudio"])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        params = cb.params
        if params.get("Digits") == "hangup" or params.get("CallStatus") == "completed":
            event = "hangup"
        elif cb.event == "noAudio" or not params.get("RecordingUrl"):
            event = "noAudio"
        else:
            event = ACTION
        return Next(event, outputs(params, event))
