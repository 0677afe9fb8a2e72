"""Issue 12 rows 2, 3, 12, 13, 14 through ``flowyard serve``: content templates in the
outbox, Run Function by SIDs with FLOWYARD_FUNCTIONS, Conversation Relay TwiML, TwiML
Redirect with timeout 0 and on a message (engine-level tests:
tests/engine/test_engine_fidelity_widgets.py;
the twilio platform: tests/e2e/test_twilio_fidelity.py; Gather speech FlowEvent:
tests/voice/test_saraalert_voice_golden.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import BACKENDS, Server, serving
from tests.e2e.helpers import inbound_sms, post_signed, wait_ended, wait_messages, webhook_url
from tests.e2e.stub import JsonHandler, serving_http
from tests.flows import flow, go, state
from tests.voice.helpers import call_flow

CONTACT, NUMBER = "+15550008888", "+15559990000"
ZS, ZE, ZH = "ZS" + "1" * 32, "ZE" + "2" * 32, "ZH" + "3" * 32
TEMPLATE = "HX" + "4" * 32


class _Function(JsonHandler):
    seen: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append(parse_qs(self.rfile.read(length).decode()))
        self.answer(200, {"horoscope": "bright"})


@pytest.fixture(scope="module")
def function_url() -> Iterator[str]:
    with serving_http(_Function) as port:
        yield f"http://127.0.0.1:{port}/horoscope"


@pytest.fixture(scope="module", params=BACKENDS)
def functions_server(request, tmp_path_factory, function_url) -> Iterator[Server]:
    mapping = tmp_path_factory.mktemp("map") / "functions.json"
    mapping.write_text(json.dumps({ZH: function_url}))
    with serving(request.param, tmp_path_factory, {"FLOWYARD_FUNCTIONS": str(mapping)}) as srv:
        yield srv


def test_a_content_template_message_reaches_the_outbox(server, client):
    definition = flow(
        state("greet", "send-message", [go("sent"), go("failed")], body="",
              message_type="content_template", content_sid=TEMPLATE,
              content_variables=[{"key": "{{1}}", "value": "{{flow.data.name}}"}],
              **{"from": NUMBER, "to": "{{contact.channel.address}}"}),
        rest="greet",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="ct", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"name": "Ann"}
    )
    wait_ended(client, flow_.sid, execution.sid)
    (sent,) = wait_messages(client, CONTACT, 1)
    assert sent.body == f"[{TEMPLATE}] 1=Ann"
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert steps[0].name == "sent"


def test_a_function_given_by_sids_runs_through_flowyard_functions(functions_server):
    client = functions_server.new_client()
    definition = flow(
        state("fn", "run-function", [go("success", "say"), go("fail")], url="",
              service_sid=ZS, environment_sid=ZE, function_sid=ZH,
              parameters=[{"key": "sign", "value": "leo"}]),
        state("say", "send-message", [go("sent"), go("failed")],
              body="{{widgets.fn.parsed.horoscope}}",
              **{"from": NUMBER, "to": "{{contact.channel.address}}"}),
        rest="fn",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="fn", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    wait_ended(client, flow_.sid, execution.sid)
    (sent,) = wait_messages(client, CONTACT, 1)
    assert sent.body == "bright"
    assert {"sign": ["leo"]} in _Function.seen


def test_conversation_relay_answers_the_call_with_connect(server):
    client = server.new_client()
    sid, token = client.username, client.password
    definition = call_flow(
        state("relay", "run-conversation-relay", [go("success"), go("failed")],
              url="wss://ai.example.test/ws", welcome_greeting="Hello", voice="Polly.Amy",
              parameters=[{"key": "who", "value": "{{contact.channel.address}}"}]),
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="cr", status="published", definition=definition
    )
    url = webhook_url(server.base_url, sid, flow_.sid)
    params = {"CallSid": "CA" + "5" * 32, "AccountSid": sid, "From": CONTACT, "To": NUMBER,
              "CallStatus": "ringing", "Direction": "inbound"}  # fmt: skip
    answer = post_signed(url, token, params)
    root = ET.fromstring(answer.text)
    connect = root.find("Connect")
    assert connect is not None and "FlowEvent=success" in connect.get("action", "")
    relay = connect.find("ConversationRelay")
    assert relay is not None and relay.get("url") == "wss://ai.example.test/ws"
    assert relay.get("welcomeGreeting") == "Hello" and relay.get("voice") == "Polly.Amy"
    assert relay.find("Parameter").attrib == {"name": "who", "value": CONTACT}


def test_redirect_with_timeout_0_hands_the_call_over_and_ends(server):
    client = server.new_client()
    sid, token = client.username, client.password
    definition = call_flow(
        state("away", "add-twiml-redirect", [go("return"), go("timeout"), go("fail")],
              url="https://app.example.test/twiml", timeout="0"),
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="rd", status="published", definition=definition
    )
    url = webhook_url(server.base_url, sid, flow_.sid)
    params = {"CallSid": "CA" + "6" * 32, "AccountSid": sid, "From": CONTACT, "To": NUMBER,
              "CallStatus": "ringing", "Direction": "inbound"}  # fmt: skip
    answer = post_signed(url, token, params)
    assert ET.fromstring(answer.text).findtext("Redirect") == "https://app.example.test/twiml"
    (execution,) = client.studio.v2.flows(flow_.sid).executions.list()
    assert wait_ended(client, flow_.sid, execution.sid).status == "ended"


class _App(BaseHTTPRequestHandler):
    """An app serving Messaging TwiML that sends a message and returns control."""

    twiml = ""
    seen: list[tuple[dict[str, list[str]], str | None]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        self.seen.append((form, self.headers.get("X-Twilio-Signature")))
        data = self.twiml.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serving_http(_App) as port:
        yield f"http://127.0.0.1:{port}/twiml"


def test_redirect_on_a_message_carries_out_the_apps_twiml_and_returns(server, app_url):
    client = server.new_client()
    sid, token = client.username, client.password
    definition = flow(
        state("away", "add-twiml-redirect", [go("return", "thanks"), go("timeout"), go("fail")],
              url=app_url, timeout="60"),
        state("thanks", "send-message", [go("sent"), go("failed")],
              body="order {{widgets.away.order}}",
              **{"from": NUMBER, "to": "{{contact.channel.address}}"}),
        message="away",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="mr", status="published", definition=definition
    )
    url = webhook_url(server.base_url, sid, flow_.sid)
    _App.twiml = (
        "<Response><Message>Hi from the app</Message>"
        f"<Redirect>{url}?FlowEvent=return&amp;order=42</Redirect></Response>"
    )
    post_signed(url, token, inbound_sms(CONTACT, NUMBER, "hi", sid))
    (execution,) = client.studio.v2.flows(flow_.sid).executions.list()
    wait_ended(client, flow_.sid, execution.sid)
    sent = wait_messages(client, CONTACT, 2)
    assert [m.body for m in reversed(sent)] == ["Hi from the app", "order 42"]
    assert sent[-1].from_ == NUMBER
    handle = client.studio.v2.flows(flow_.sid).executions(execution.sid)
    steps = handle.steps.list()
    assert [(s.transitioned_from, s.name) for s in reversed(steps)][1] == ("away", "return")
    assert handle.execution_context().fetch().context["widgets"]["away"] == {"order": "42"}
    form, signature = _App.seen[-1]
    assert form["Body"] == ["hi"] and form["From"] == [CONTACT]
    params = {k: v[0] for k, v in form.items()}
    assert RequestValidator(token).validate(app_url, params, signature or "")


def test_redirect_on_a_message_to_unparseable_twiml_fails_with_12100(server, app_url):
    client = server.new_client()
    sid, token = client.username, client.password
    definition = flow(
        state("away", "add-twiml-redirect", [go("return"), go("timeout"), go("fail")],
              url=app_url, timeout="60"),
        message="away",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="mf", status="published", definition=definition
    )
    _App.twiml = "<Response><Message>unclosed</Response>"
    post_signed(
        webhook_url(server.base_url, sid, flow_.sid), token, inbound_sms(CONTACT, NUMBER, "hi", sid)
    )
    (execution,) = client.studio.v2.flows(flow_.sid).executions.list()
    wait_ended(client, flow_.sid, execution.sid)
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert steps[0].transitioned_from == "away" and steps[0].name == "fail"
    codes = [a.error_code for a in client.monitor.v1.alerts.list()]
    assert codes == ["12100"]
    assert client.messages.list(to=CONTACT) == []
