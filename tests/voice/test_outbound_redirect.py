"""Make Outgoing Call, TwiML Redirect and Run Function's TwiML through a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flowyard.testing.voice import Outcomes
from tests.e2e.helpers import wait_ended, wait_for, wait_steps
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, harness, query_of, twiml

OUTBOUND = call_flow(
    state(
        "call_user",
        "make-outgoing-call-v2",
        [go("answered", "greet"), go("busy", "note"), go("noAnswer", "note"), go("failed", "note")],
        **{
            "from": "{{flow.channel.address}}",
            "to": "{{contact.channel.address}}",
            "timeout": 60,
            "record": False,
            "detect_answering_machine": True,
            "machine_detection": "Enable",
            "machine_detection_timeout": "30",
            "machine_detection_speech_threshold": "2400",
        },
    ),
    state(
        "greet",
        "say-play",
        [go("audioComplete")],
        say="Hello, answered by {{widgets.call_user.AnsweredBy}}",
    ),
    state(
        "note",
        "set-variables",
        [go("next")],
        variables=[{"key": "status", "value": "{{widgets.call_user.CallStatus}}"}],
    ),
    first="greet",
    rest="call_user",
)


def test_make_outgoing_call_answered(server):
    with harness(server) as h:
        flow_sid = h.create(OUTBOUND)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(to=CALLER, from_=NUMBER)
        wait_steps(h.client, flow_sid, execution.sid, 1)  # the call is placed, the flow waits
        placed = h.client.calls.list(to=CALLER)
        assert len(placed) == 1 and placed[0].status == "queued"
        assert placed[0].direction == "outbound-api" and placed[0]._from == NUMBER
        assert h.steps(flow_sid, execution.sid) == [("Trigger", "incomingRequest", "call_user")]
        call = h.voice.answer(to=CALLER)
        assert call.execution_sid == execution.sid
        assert call.heard == ["Hello, answered by human"]
        context = h.context(flow_sid, execution.sid)
        entry = context["widgets"]["call_user"]
        assert entry["AnsweredBy"] == "human" and entry["Direction"] == "outbound-api"
        assert entry["CallSid"] == placed[0].sid and "FlowEvent" not in entry
        assert h.steps(flow_sid, execution.sid)[1:] == [
            ("call_user", "answered", "greet"),
            ("greet", "audioComplete", "Ended"),
        ]
        fetched = h.client.calls(placed[0].sid).fetch()
        assert fetched.status == "completed" and fetched.answered_by == "human"


@pytest.mark.parametrize(
    ("status", "event"),
    [("busy", "busy"), ("no-answer", "noAnswer"), ("failed", "failed"), ("canceled", "failed")],
)
def test_make_outgoing_call_not_answered(server, status, event):
    with harness(server) as h:
        flow_sid = h.create(OUTBOUND)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(to=CALLER, from_=NUMBER)
        wait_steps(h.client, flow_sid, execution.sid, 1)  # the call is placed
        assert h.voice.fail(status, to=CALLER).status_code == 200
        assert h.steps(flow_sid, execution.sid)[1:] == [
            ("call_user", event, "note"),
            ("note", "next", "Ended"),
        ]
        assert h.context(flow_sid, execution.sid)["flow"]["variables"] == {"status": status}
        assert h.client.calls.list(to=CALLER)[0].status == status


def test_make_outgoing_call_refused_by_the_platform_fails(server):
    definition = call_flow(
        state(
            "call_user",
            "make-outgoing-call-v2",
            [go("answered"), go("failed")],
            **{"from": "", "to": ""},
        ),
        # REST only: Studio refuses Make Outgoing Call under incomingCall (81022).
        state("hello", "say-play", [go("audioComplete")], say="hi"),
        first="hello",
        rest="call_user",
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(to=CALLER, from_="")
        wait_ended(h.client, flow_sid, execution.sid)
        assert h.steps(flow_sid, execution.sid)[-1] == ("call_user", "failed", "Ended")


APP = "https://ivr.example.com/app"


def redirect_flow(timeout: str = "14400", url: str = APP) -> dict:
    return call_flow(
        state(
            "away",
            "add-twiml-redirect",
            [go("return", "back"), go("timeout", "late"), go("fail", "broken")],
            url=url,
            method="POST",
            timeout=timeout,
        ),
        state("back", "say-play", [go("audioComplete")], say="Back with {{widgets.away.order}}"),
        state("late", "set-variables", [go("next")], variables=[{"key": "r", "value": "late"}]),
        state("broken", "say-play", [go("audioComplete")], say="broken"),
    )


def test_twiml_redirect_returns_with_parameters(server):
    with harness(server) as h:
        flow_sid = h.create(redirect_flow())
        webhook = h.voice.webhook(flow_sid)

        def app(params):
            back = f"{webhook}?FlowEvent=return&amp;order=42&amp;paid=yes"
            return f"<Response><Say>external app</Say><Redirect>{back}</Redirect></Response>"

        call = h.voice.call(flow_sid, CALLER, NUMBER, outcomes=Outcomes(apps={APP: app}))
        redirect = twiml(call.exchanges[0].twiml)[0]
        assert redirect.tag == "Redirect" and redirect.text == APP
        assert redirect.get("method") == "POST"
        assert call.heard == ["external app", "Back with 42"]
        # The return URL carries no execution SID: the CallSid finds it.
        assert "executionSid" not in query_of(call.exchanges[1].url)
        sid = h.client.studio.v2.flows(flow_sid).executions.list()[0].sid
        assert h.context(flow_sid, sid)["widgets"]["away"] == {"order": "42", "paid": "yes"}
        assert h.steps(flow_sid, sid)[1] == ("away", "return", "back")


def test_twiml_redirect_timeout_and_fail(server):
    with harness(server) as h:
        flow_sid = h.create(redirect_flow(timeout="1"))
        call = h.voice.call(
            flow_sid,
            CALLER,
            NUMBER,
            hang_up=False,
            outcomes=Outcomes(apps={APP: lambda p: "<Response><Pause/></Response>"}),
        )
        assert call.execution_sid is None  # the TwiML named only the external app
        sid = h.client.studio.v2.flows(flow_sid).executions.list()[0].sid
        wait_for(lambda: h.execution(flow_sid, sid).status == "ended")
        assert h.steps(flow_sid, sid)[1:] == [
            ("away", "timeout", "late"),
            ("late", "next", "Ended"),
        ]
        assert h.context(flow_sid, sid)["widgets"]["away"] == {}

        flow_sid = h.create(redirect_flow(url="not a url"))
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert call.heard == ["broken"]
        assert h.steps(flow_sid, call.execution_sid)[1] == ("away", "fail", "broken")


class Function(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'<Response><Say>from the function</Say><Pause length="1"/></Response>'
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def function_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Function)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/twiml"
    finally:
        server.shutdown()


def test_run_function_twiml_is_played_on_a_call(server, function_url):
    definition = call_flow(
        state("fn", "run-function", [go("success", "after"), go("fail")], url=function_url),
        state("after", "say-play", [go("audioComplete")], say="after {{widgets.fn.status_code}}"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        first = twiml(call.exchanges[0].twiml)
        assert [n.tag for n in first] == ["Say", "Pause", "Redirect"]
        assert query_of(first[2].text)["FlowEvent"] == "success"
        assert call.heard == ["from the function", "after 200"]
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["fn"]
        assert entry["status_code"] == 200 and "from the function" in entry["body"]


def test_ending_the_execution_cancels_its_unanswered_call(server):
    with harness(server) as h:
        flow_sid = h.create(OUTBOUND)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(to=CALLER, from_=NUMBER)
        wait_steps(h.client, flow_sid, execution.sid, 1)  # the call is placed and rings
        (placed,) = h.client.calls.list(to=CALLER)
        assert placed.status == "queued"
        ended = h.client.studio.v2.flows(flow_sid).executions(execution.sid).update(status="ended")
        assert ended.status == "ended"
        # The call is canceled once the end is committed (not under the execution's lease).
        wait_for(lambda: h.client.calls(placed.sid).fetch().status == "canceled")
