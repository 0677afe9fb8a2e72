"""Connect Call To, Record Voicemail and Call Recording through a real server."""

from __future__ import annotations

import pytest

from flowyard.testing.voice import Outcomes
from tests.e2e.helpers import wait_ended
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, harness, twiml

NOUNS = [
    ("number", "+15551230000", {}, [("Number", "+15551230000")]),
    (
        "number-multi",
        "+15551230001, +15551230002",
        {},
        [("Number", "+15551230001"), ("Number", "+15551230002")],
    ),
    ("client", "alice", {}, [("Client", "alice")]),
    ("conference", "room-{{trigger.call.To}}", {}, [("Conference", f"room-{NUMBER}")]),
    ("sim", "DE" + "1" * 32, {}, [("Sim", "DE" + "1" * 32)]),
    (
        "sip",
        "",
        {"sip_endpoint": "sip:agent@example.com", "sip_username": "u", "sip_password": "p"},
        [("Sip", "sip:agent@example.com")],
    ),
]


def connect_flow(noun: str, to: str, **extra: str) -> dict:
    return call_flow(
        state(
            "connect",
            "connect-call-to",
            [go("callCompleted", "after"), go("hangup")],
            noun=noun,
            to=to,
            caller_id="{{contact.channel.address}}",
            record=True,
            timeout=20,
            time_limit="600",
            **extra,
        ),
        state("after", "say-play", [go("audioComplete")], say="Goodbye"),
    )


@pytest.mark.parametrize(("noun", "to", "extra", "expected"), NOUNS, ids=[n[0] for n in NOUNS])
def test_connect_call_to_each_noun(server, noun, to, extra, expected):
    with harness(server) as h:
        flow_sid = h.create(connect_flow(noun, to, **extra))
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        dial = twiml(call.exchanges[0].twiml)[0]
        assert dial.tag == "Dial"
        assert dial.get("callerId") == CALLER and dial.get("record") == "record-from-answer"
        assert dial.get("timeout") == "20" and dial.get("timeLimit") == "600"
        assert [(n.tag, n.text) for n in dial] == expected
        if noun == "sip":
            assert dial[0].get("username") == "u" and dial[0].get("password") == "p"
        assert call.heard[-1] == "Goodbye"
        steps = h.steps(flow_sid, call.execution_sid)
        assert steps[1] == ("connect", "callCompleted", "after")
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["connect"]
        assert entry["DialCallStatus"] == "completed" and entry["FlowEvent"] == "callCompleted"
        assert entry["DialCallSid"].startswith("CA") and entry["DialCallDuration"] == "12"


def test_connect_call_to_hangup(server):
    with harness(server) as h:
        flow_sid = h.create(connect_flow("number", "+15551230000"))
        call = h.voice.call(flow_sid, CALLER, NUMBER, outcomes=Outcomes(hang_up_in=("Dial",)))
        steps = h.steps(flow_sid, call.execution_sid)
        assert steps[-1] == ("connect", "hangup", "Ended")
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["connect"]
        assert entry["CallStatus"] == "completed" and entry["FlowEvent"] == "hangup"
        assert h.execution(flow_sid, call.execution_sid).status == "ended"


VOICEMAIL = call_flow(
    state(
        "vm",
        "record-voicemail",
        [go("recordingComplete", "thanks"), go("noAudio", "nothing"), go("hangup")],
        timeout=7,
        finish_on_key="#",
        max_length=120,
        transcribe=True,
        transcription_callback_url="https://example.com/t",
        trim="trim-silence",
        play_beep="true",
        recording_status_callback_url="https://example.com/r",
    ),
    state("thanks", "say-play", [go("audioComplete")], say="Thanks {{widgets.vm.RecordingSid}}"),
    state("nothing", "say-play", [go("audioComplete")], say="Nothing recorded"),
)


def test_record_voicemail_events(server):
    with harness(server) as h:
        flow_sid = h.create(VOICEMAIL)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        record, after = list(twiml(call.exchanges[0].twiml))
        assert record.tag == "Record" and after.tag == "Redirect"
        assert record.get("timeout") == "7" and record.get("finishOnKey") == "#"
        assert record.get("maxLength") == "120" and record.get("transcribe") == "true"
        assert record.get("transcribeCallback") == "https://example.com/t"
        assert record.get("recordingStatusCallback") == "https://example.com/r"
        assert record.get("trim") == "trim-silence" and record.get("playBeep") == "true"
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["vm"]
        assert entry["FlowEvent"] == "recordingComplete" and entry["RecordingUrl"]
        assert call.heard[-1] == f"Thanks {entry['RecordingSid']}"

        call = h.voice.call(flow_sid, "+15550002222", NUMBER, outcomes=Outcomes(recording=False))
        assert call.heard[-1] == "Nothing recorded"
        assert ("vm", "noAudio", "nothing") in h.steps(flow_sid, call.execution_sid)

        call = h.voice.call(
            flow_sid, "+15550003333", NUMBER, outcomes=Outcomes(hang_up_in=("Record",))
        )
        assert h.steps(flow_sid, call.execution_sid)[-1] == ("vm", "hangup", "Ended")
        assert h.context(flow_sid, call.execution_sid)["widgets"]["vm"]["Digits"] == "hangup"


def test_record_call_starts_and_stops_through_the_platform(server):
    definition = call_flow(
        state(
            "start",
            "record-call",
            [go("success", "talk"), go("failed")],
            record_call=True,
            recording_channels="dual",
            recording_status_callback="https://example.com/rs",
        ),
        state("talk", "say-play", [go("audioComplete", "stop")], say="Recording"),
        state("stop", "record-call", [go("success"), go("failed")], record_call=False),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert call.heard == ["Recording"]
        context = h.context(flow_sid, call.execution_sid)
        started, stopped = context["widgets"]["start"], context["widgets"]["stop"]
        assert started["Sid"].startswith("RE") and started["Status"] == "in-progress"
        assert started["CallSid"] == call.call_sid and started["Channels"] == "2"
        assert stopped == {**stopped, "Sid": started["Sid"], "Status": "stopped"}
        assert [s[1] for s in h.steps(flow_sid, call.execution_sid)] == [
            "incomingCall",
            "success",
            "audioComplete",
            "success",
        ]


def test_record_call_without_a_call_fails(server):
    definition = call_flow(
        state("start", "record-call", [go("success"), go("failed", "noted")], record_call=True),
        state("noted", "set-variables", [go("next")], variables=[{"key": "r", "value": "no"}]),
        rest="start",
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(to=CALLER, from_=NUMBER)
        wait_ended(h.client, flow_sid, execution.sid)
        assert h.steps(flow_sid, execution.sid) == [
            ("Trigger", "incomingRequest", "start"),
            ("start", "failed", "noted"),
            ("noted", "next", "Ended"),
        ]
