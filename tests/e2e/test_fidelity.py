"""Studio's behaviour where it differs from a naive reading, through ``flowyard serve`` with
the SDK (issue 12; the engine-level tests are in tests/engine/test_liquid_studio.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.e2e.helpers import wait_ended, wait_messages
from tests.e2e.stub import serving_http
from tests.flows import flow, go, state

CONTACT, NUMBER = "+15550007777", "+15559990000"


def test_liquid_renders_as_studio_renders_it(server, client):
    body = (
        "{% if flow.variables.tries > 2 %}many{% else %}few{% endif %} "
        "{{ flow.data.page.offset | plus: flow.data.page.limit }} "
        "{{ flow.data.items.0.name }}[{{ flow.data.none.0 }}] {{ 2.5 | round }}"
    )
    definition = flow(
        state("count", "set-variables", [go("next", "say")],
              variables=[{"key": "tries", "value": "3"}]),
        state("say", "send-message", [go("sent", "ask"), go("failed")], body=body,
              **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}),
        state("ask", "send-and-wait-for-reply", [go("incomingMessage"), go("timeout")],
              body="?", timeout="{{flow.data.wait}}", **{"from": "{{flow.channel.address}}"}),
        rest="count",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="liquid", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT,
        from_=NUMBER,
        parameters={"page": {"offset": 20, "limit": 10}, "items": [{"name": "n"}], "wait": "1"},
    )
    # The wait's timeout is a template too: one second, not the 3,600 s default.
    wait_ended(client, flow_.sid, execution.sid, timeout=30)
    sent = [m.body for m in reversed(wait_messages(client, CONTACT, 2))]
    assert sent == ["many 30 n[] 3", "?"]
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert steps[0].transitioned_from == "ask" and steps[0].name == "timeout"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[int, list]]:
    seen: list[tuple[str, str | None]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    with serving_http(handler) as port:
        yield port, seen


def test_http_request_keeps_the_urls_query_and_authenticates_with_twilio(client, recorder):
    port, seen = recorder
    request = {
        "method": "GET",
        "content_type": "application/x-www-form-urlencoded;charset=utf-8",
        "parameters": [{"key": "x", "value": "{{flow.data.x}}"}],
    }
    definition = flow(
        state("keyed", "make-http-request", [go("success", "plain"), go("failed", "plain")],
              url=f"http://127.0.0.1:{port}/q?api_key=abc", add_twilio_auth=True, **request),
        state("plain", "make-http-request", [go("success"), go("failed")],
              url=f"http://127.0.0.1:{port}/p", **request),
        rest="keyed",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(friendly_name="http", status="published",
                                          definition=definition)  # fmt: skip
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"x": "1"}
    )
    wait_ended(client, flow_.sid, execution.sid)
    basic = base64.b64encode(f"{client.account_sid}:{client.password}".encode()).decode()
    assert seen == [("/q?api_key=abc&x=1", f"Basic {basic}"), ("/p?x=1", None)]


def test_a_rest_only_widget_under_a_message_trigger_is_refused(client):
    call = state("call", "make-outgoing-call-v2", [go("answered"), go("failed")],
                 **{"from": "+15559990000", "to": "+15550001111"})  # fmt: skip
    with pytest.raises(TwilioRestException) as refused:
        client.studio.v2.flows.create(
            friendly_name="x", status="published", definition=flow(call, message="call")
        )
    assert refused.value.status == 400 and refused.value.code == 81022
    accepted = client.studio.v2.flows.create(
        friendly_name="x", status="published", definition=flow(call, rest="call")
    )
    assert accepted.valid
