"""The ``twilio`` adapter places calls and records them through a local fake of Twilio's
Calls and Recordings APIs; the real call then drives the flow through its webhook."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from flowyard.testing.voice import VoiceClient
from tests.conftest import serving_on_twilio
from tests.e2e.helpers import wait_ended, wait_for, wait_steps
from tests.e2e.stub import JsonHandler
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow
from tests.voice.test_call_moves_on import AWAY, REDIRECTED

PUBLIC = "http://flows.example.test"


class FakeCalls(JsonHandler):
    """``POST …/Calls.json`` and ``POST …/Calls/{CA}/Recordings.json`` answered like Twilio."""

    received: list[tuple[str, dict[str, list[str]]]] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        params = parse_qs(self.rfile.read(length).decode())
        self.received.append((self.path, params))
        account = self.path.split("/")[3]
        if self.path.endswith("/Calls.json"):
            if params["To"] == ["+15550000000"]:
                self.answer(
                    400,
                    {
                        "code": 21215,
                        "message": "Geo permission",
                        "status": 400,
                        "more_info": "https://www.twilio.com/docs/errors/21215",
                    },
                )
                return
            sid = "CA" + uuid.uuid4().hex
            self.answer(
                201,
                {
                    "sid": sid,
                    "account_sid": account,
                    "to": params["To"][0],
                    "from": params["From"][0],
                    "status": "queued",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json",
                },
            )
            return
        call_sid = self.path.split("/")[5].removesuffix(".json")
        if "/Recordings" not in self.path:  # a call update: Twilio fetches the new Url
            self.answer(
                200,
                {
                    "sid": call_sid,
                    "account_sid": account,
                    "status": "in-progress",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{account}/Calls/{call_sid}.json",
                },
            )
            return
        sid = "RE" + uuid.uuid4().hex
        self.answer(
            201,
            {
                "sid": sid,
                "account_sid": account,
                "call_sid": call_sid,
                "status": "in-progress",
                "channels": 2,
                "source": "StartCallRecordingAPI",
                "uri": f"/2010-04-01/Accounts/{account}/Calls/{call_sid}/Recordings/{sid}.json",
            },
        )


@pytest.fixture
def twilio_server(tmp_path) -> Iterator:
    FakeCalls.received = []
    with serving_on_twilio(FakeCalls, tmp_path / "tw.db", FLOWYARD_PUBLIC_URL=PUBLIC) as srv:
        yield srv


DEFINITION = call_flow(
    state(
        "call_user",
        "make-outgoing-call-v2",
        [go("answered", "rec"), go("busy"), go("noAnswer"), go("failed", "why")],
        **{
            "from": "{{flow.channel.address}}",
            "to": "{{contact.channel.address}}",
            "timeout": 30,
            "detect_answering_machine": True,
            "machine_detection": "Enable",
            "machine_detection_timeout": "30",
            "send_digits": "1w2",
        },
    ),
    state(
        "rec",
        "record-call",
        [go("success", "hello"), go("failed")],
        record_call=True,
        recording_channels="dual",
    ),
    state("hello", "say-play", [go("audioComplete")], say="Hi {{widgets.rec.Status}}"),
    state("why", "set-variables", [go("next")], variables=[{"key": "e", "value": "failed"}]),
    first="hello",
    rest="call_user",
)


def test_outgoing_call_and_recording_use_the_real_apis(twilio_server):
    server = twilio_server
    client = server.client()
    flow = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=DEFINITION
    )
    execution = client.studio.v2.flows(flow.sid).executions.create(to=CALLER, from_=NUMBER)
    wait_steps(client, flow.sid, execution.sid, 1)  # the call is placed, the flow waits
    (path, params) = FakeCalls.received[0]
    assert path == f"/2010-04-01/Accounts/{'AC' + '2' * 32}/Calls.json"
    webhook = f"{PUBLIC}/v1/Accounts/{server.account_sid}/Flows/{flow.sid}"
    assert params["Url"] == [f"{webhook}?executionSid={execution.sid}"]
    assert params["StatusCallback"] == params["Url"] and params["Method"] == ["POST"]
    assert params["To"] == [CALLER] and params["From"] == [NUMBER]
    assert params["MachineDetection"] == ["Enable"] and params["Timeout"] == ["30"]
    assert params["MachineDetectionTimeout"] == ["30"] and params["SendDigits"] == ["1w2"]
    (placed,) = client.calls.list()
    assert placed.status == "queued" and placed.direction == "outbound-api"

    # Twilio answers: it fetches the call's URL, signed for the public address.
    voice = VoiceClient(server.base_url, server.account_sid, server.auth_token, signed_base=PUBLIC)
    try:
        call = voice.answer(to=CALLER)
    finally:
        voice.close()
    assert call.heard == ["Hi in-progress"]
    (rec_path, rec_params) = FakeCalls.received[1]
    assert rec_path.endswith(f"/Calls/{placed.sid}/Recordings.json")
    assert rec_params["RecordingChannels"] == ["dual"]
    steps = client.studio.v2.flows(flow.sid).executions(execution.sid).steps.list()
    assert [s.name for s in reversed(steps)] == [
        "incomingRequest",
        "answered",
        "success",
        "audioComplete",
    ]


def test_a_refused_call_takes_failed(twilio_server):
    client = twilio_server.client()
    flow = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=DEFINITION
    )
    execution = client.studio.v2.flows(flow.sid).executions.create(to="+15550000000", from_=NUMBER)
    wait_ended(client, flow.sid, execution.sid)
    steps = client.studio.v2.flows(flow.sid).executions(execution.sid).steps.list()
    assert [(s.transitioned_from, s.name) for s in reversed(steps)][1:] == [
        ("call_user", "failed"),
        ("why", "next"),
    ]


def test_a_timed_out_redirect_brings_the_real_call_back(twilio_server):
    server = twilio_server
    client = server.client()
    flow = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=REDIRECTED
    )
    voice = VoiceClient(server.base_url, server.account_sid, server.auth_token, signed_base=PUBLIC)
    try:
        call = voice.call(flow.sid, CALLER, NUMBER, hang_up=False, outcomes=AWAY)
        update = f"/Calls/{call.call_sid}.json"
        _path, params = wait_for(
            lambda: next((r for r in FakeCalls.received if r[0].endswith(update)), None)
        )
        (execution,) = client.studio.v2.flows(flow.sid).executions.list()
        webhook = f"{PUBLIC}/v1/Accounts/{server.account_sid}/Flows/{flow.sid}"
        assert params["Url"] == [f"{webhook}?executionSid={execution.sid}"]
        assert params["Method"] == ["POST"]
        # Twilio fetches the new URL: the caller hears the widget after the timeout.
        answer = voice.post(
            params["Url"][0], {**call.exchanges[0].params, "CallStatus": "in-progress"}
        )
        assert answer.status_code == 200
        assert ET.fromstring(answer.text)[0].text == "We lost you"
    finally:
        voice.close()


def test_ending_the_execution_cancels_the_real_call_while_it_rings(twilio_server):
    client = twilio_server.client()
    flow = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=DEFINITION
    )
    execution = client.studio.v2.flows(flow.sid).executions.create(to=CALLER, from_=NUMBER)
    wait_steps(client, flow.sid, execution.sid, 1)  # the call is placed and rings
    (placed,) = client.calls.list()
    ended = client.studio.v2.flows(flow.sid).executions(execution.sid).update(status="ended")
    assert ended.status == "ended"
    # The call is canceled once the end is committed (the Calls API is not called under the
    # execution's lease): wait for the request, then for the call's row.
    path, params = wait_for(lambda: len(FakeCalls.received) > 1 and FakeCalls.received[-1])
    assert path.endswith(f"/Calls/{placed.sid}.json")
    assert params == {"Status": ["canceled"]}
    wait_for(lambda: client.calls(placed.sid).fetch().status == "canceled")
