"""``flowyard.testing`` from Python: load a flow, start it, reply, advance the clock."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowyard.engine import ServiceCall
from flowyard.testing import NetworkError, Response, ScriptError, load_flow
from tests.conftest import shared_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPOINTMENT = EXAMPLES / "appointment" / "appointment.json"
IVR = EXAMPLES / "ivr" / "ivr.json"
ONBOARDING = EXAMPLES / "onboarding"
CHILD_SID = "FW" + "c" * 32


@pytest.fixture
def appointment():
    return load_flow(
        APPOINTMENT,
        mocks={
            "Fetch_Slot": [Response(200, {"slot": "Tue 9:30"})],
            "Book": [Response(201, {"id": "B-1"})],
        },
    )


def test_reply_books_and_sets_variables(appointment) -> None:
    run = appointment.message("hi")
    assert run.sent[-1].body == "Hi there! The next slot is Tue 9:30. Reply YES to book it."
    assert run.waiting_for == "reply"
    run.reply("yes")
    assert run.sent[-1].body == "Booked! Your reference is B-1."
    assert run.variables == {"booking_id": "B-1"}
    assert run.widget("Book")["parsed"] == {"id": "B-1"}
    assert run.path == [
        "Trigger",
        "Fetch_Slot",
        "Ask",
        "Check_Answer",
        "Book",
        "Remember_Booking",
        "Confirm",
    ]
    assert run.status == "ended"


def test_advance_fires_the_reply_timeout_at_its_deadline(appointment) -> None:
    run = appointment.message("hi")
    started = run.clock.now()
    run.advance(3599)
    assert run.active and len(run.sent) == 1
    run.advance(1)
    assert run.sent[-1].body == "We did not hear back, so the slot was released."
    assert (run.clock.now() - started).total_seconds() == 3600
    assert not run.active


def _retry_flow(tmp_path: Path) -> Path:
    """Poll an API until it answers 2xx: one widget called several times in one execution."""
    states = [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {},
            "transitions": [{"event": "incomingRequest", "next": "Poll"}],
        },
        {
            "name": "Poll",
            "type": "make-http-request",
            "properties": {
                "method": "GET",
                "url": "https://api.example.com/status",
                "content_type": "application/json",
            },
            "transitions": [
                {"event": "success", "next": "Done"},
                {"event": "failed", "next": "Count"},
            ],
        },
        {
            "name": "Count",
            "type": "set-variables",
            "properties": {
                "variables": [
                    {"key": "tries", "value": "{{flow.variables.tries | default: 0 | plus: 1}}"}
                ]
            },
            "transitions": [{"event": "next", "next": "Poll"}],
        },
        {
            "name": "Done",
            "type": "send-message",
            "properties": {
                "from": "{{flow.channel.address}}",
                "to": "{{contact.channel.address}}",
                "body": "ready after {{flow.variables.tries}} retries: "
                "{{widgets.Poll.parsed.state}}",
            },
            "transitions": [{"event": "sent"}, {"event": "failed"}],
        },
    ]
    path = tmp_path / "retry.json"
    path.write_text(
        json.dumps({"description": "retry", "initial_state": "Trigger", "states": states})
    )
    return path


def test_mocks_answer_per_call_index_and_the_last_repeats(tmp_path: Path) -> None:
    flow = load_flow(_retry_flow(tmp_path))
    answers = [Response(500, "down"), NetworkError("timed out"), Response(200, {"state": "up"})]
    run = flow.start(mocks={"Poll": answers})
    assert run.sent[-1].body == "ready after 2 retries: up"
    assert run.mocks.counts == {"Poll": 3}
    assert run.path.count("Poll") == 3
    # Past the end of the list, the last answer repeats.
    call = ServiceCall("http", "Poll", {"method": "GET", "url": "https://api.example.com/"})
    assert run.mocks(call).data["body"] == '{"state": "up"}'
    assert run.mocks.counts == {"Poll": 4}


def test_network_error_mock_takes_the_failed_branch() -> None:
    run = load_flow(APPOINTMENT, mocks={"Fetch_Slot": [NetworkError()]}).message("hi")
    assert run.path[-1] == "Sorry"
    assert run.widget("Fetch_Slot") == {}


def test_unmocked_widget_fails_without_the_network() -> None:
    run = load_flow(APPOINTMENT).message("hi")
    assert run.mocks.unmocked == ["Fetch_Slot"]
    assert run.path[-1] == "Sorry"


@pytest.fixture
def slot_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"slot": "from the network"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_allow_network_calls_unmocked_widgets_for_real(tmp_path: Path, slot_server: str) -> None:
    definition = json.loads(APPOINTMENT.read_text())
    for state in definition["states"]:
        if state["name"] == "Fetch_Slot":
            state["properties"]["url"] = slot_server + "/slots"
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(definition))
    run = load_flow(path, allow_network=True).message("hi")
    assert "from the network" in run.sent[-1].body
    assert run.mocks.unmocked == []


def test_script_errors_say_where_the_execution_is(appointment) -> None:
    run = appointment.message("hi")
    with pytest.raises(ScriptError, match=r"no gather is listening .*waiting for reply at Ask"):
        run.digits("1")
    run.reply("no")
    with pytest.raises(ScriptError, match=r"ended \(FLOW_END\)"):
        run.reply("again")


def test_voice_digits_speech_silence_and_hangup() -> None:
    flow = load_flow(IVR)
    run = flow.call()
    assert run.heard[0] == "Thanks for calling Flowyard Bikes."
    assert run.waiting_for == "gather"
    run.digits("1")
    assert run.heard[-2:] == ["We are open nine to five, Monday to Saturday.", "Goodbye!"]
    assert run.widget("Menu")["Digits"] == "1"

    run = flow.call().speech("agent")
    assert "Agent" in run.path and run.widget("Menu")["SpeechResult"] == "agent"
    assert run.widget("Agent")["DialCallStatus"] == "completed"

    run = flow.call().silence()
    assert run.path[-1] == "Menu" and run.variables == {"retries": "1"}

    run = flow.call().hangup()
    assert run.status == "ended" and run.state.ended_reason == "ENDED"


def test_subflow_returns_its_variables() -> None:
    flow = load_flow(
        ONBOARDING / "onboarding.json", subflows={CHILD_SID: ONBOARDING / "ask-name.json"}
    )
    run = flow.message("start")
    assert run.sent[-1].body == "What is your name?"
    run.reply("grace")
    assert run.sent[-1].body == "Welcome aboard, Grace!"
    assert run.widget("Ask_Name_Subflow") == {"name": "Grace"}


def test_a_real_flow_from_shared_runs() -> None:
    path = shared_path("flows", "Eclairemoy__pride-astrology__studio_flow.json")
    run = load_flow(path).message("hi")
    assert run.sent[0].body.startswith("Hi there, tell us your sign")
    run.reply("leo")
    assert run.path[:4] == ["Trigger", "ask_sign", "split_sign", "send_waiting"]


def test_outgoing_call_is_answered_and_heard() -> None:
    path = shared_path("flows", "vernig__twilio-autodialer__studio-flow.json")
    run = load_flow(path).start({})
    call = next(c for c in run.calls if c.kind == "call")
    assert call.request["to"] == "+15550001111"
    assert run.heard, run.path
    assert run.status == "ended"


def test_failed_delivery_takes_the_delivery_failure_branch(appointment) -> None:
    run = appointment.message("hi").fail_delivery("undelivered")
    assert run.steps[-1].name == "deliveryFailure"
    assert run.widget("Ask")["MessageStatus"] == "undelivered"
    assert run.status == "ended"


def _hold_flow(tmp_path: Path) -> Path:
    def say(name: str, text: str) -> dict:
        return {
            "name": name,
            "type": "say-play",
            "properties": {"say": text},
            "transitions": [{"event": "audioComplete"}],
        }

    states = [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {},
            "transitions": [{"event": "incomingCall", "next": "Hold"}],
        },
        {
            "name": "Hold",
            "type": "add-twiml-redirect",
            "properties": {"url": "https://hold.example.com/music", "timeout": "600"},
            "transitions": [
                {"event": "return", "next": "Back"},
                {"event": "timeout", "next": "Late"},
                {"event": "fail"},
            ],
        },
        say("Back", "Welcome back, {{widgets.Hold.agent}}."),
        say("Late", "Sorry for the wait."),
    ]
    path = tmp_path / "hold.json"
    path.write_text(json.dumps({"initial_state": "Trigger", "states": states}))
    return path


def test_twiml_redirect_returns_or_times_out(tmp_path: Path) -> None:
    flow = load_flow(_hold_flow(tmp_path))
    run = flow.call()
    assert run.waiting_for == "redirect"
    assert run.heard == ["[redirect https://hold.example.com/music]"]
    run.redirect_return({"agent": "Sam"})
    assert run.heard[-1] == "Welcome back, Sam."
    assert run.widget("Hold") == {"agent": "Sam"}

    run = flow.call().advance(599)
    assert run.waiting_for == "redirect"
    run.advance(1)
    assert run.heard[-1] == "Sorry for the wait."
