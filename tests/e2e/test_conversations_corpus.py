"""The corpus flows that start on ``incomingConversationMessage`` (Frontline, Flex parking),
driven through ``flowyard serve`` by signed Conversations webhooks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import shared_path
from tests.e2e.helpers import (
    conversation_message,
    new_conversation_sid,
    post_signed,
    wait_ended,
    wait_for,
    wait_steps,
    webhook_url,
)

CUSTOMER = "whatsapp:+5511999990000"
FRONTLINE = "guvarallo__frontline-airtable-studio-bot__studio-flow.json"
PARKING = (
    "twilio-professional-services__flex-project-template__"
    "template_example_messaging_with_parking_flow.json"
)


def _load(name: str) -> dict[str, Any]:
    return json.loads(shared_path("flows", name).read_text())


class _Functions(BaseHTTPRequestHandler):
    """The Frontline bot's serverless callbacks: no conversation name, no known customer."""

    seen: list[tuple[str, str, dict[str, list[str]]]] = []

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode()) if length else {}
        self.seen.append((self.command, parts.path, {**parse_qs(parts.query), **form}))
        body = json.dumps({"name": "", "customer": ""}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def functions() -> Iterator[tuple[str, list]]:
    seen: list = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("F", (_Functions,), {"seen": seen}))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


def _start(server: Any, client: Any, definition: dict[str, Any]) -> tuple[str, str, str, Any]:
    flow_ = client.studio.v2.flows.create(
        friendly_name="corpus", status="published", definition=definition
    )
    url = webhook_url(server.base_url, client.username, flow_.sid)
    conversation = new_conversation_sid()
    first = conversation_message(conversation, CUSTOMER, "oi", client.username, 0)
    assert post_signed(url, client.password, first).status_code == 200
    (execution,) = wait_for(lambda: client.studio.v2.flows(flow_.sid).executions.list())
    return flow_.sid, url, conversation, execution


def _reply(client: Any, url: str, conversation: str, body: str, index: int) -> None:
    params = conversation_message(conversation, CUSTOMER, body, client.username, index)
    assert post_signed(url, client.password, params).status_code == 200


def _said(client: Any, conversation: str) -> list[tuple[str, str]]:
    listed = client.conversations.v1.conversations(conversation).messages.list()
    return [(m.author, m.body) for m in listed]


def test_frontline_bot_greets_a_new_customer_and_hands_over(server, client, functions):
    base, seen = functions
    text = json.dumps(_load(FRONTLINE)).replace("https://your-serverless-url-dev.twil.io", base)
    flow_sid, url, conversation, execution = _start(server, client, json.loads(text))
    wait_for(lambda: len(_said(client, conversation)) >= 2)
    _reply(client, url, conversation, "Ana", 2)
    wait_for(lambda: len(_said(client, conversation)) >= 4)
    _reply(client, url, conversation, "agente", 4)
    done = wait_ended(client, flow_sid, execution.sid)
    assert done.context["flow"]["variables"] == {
        "conversationSid": conversation,
        "customerNumber": CUSTOMER,
    }
    said = _said(client, conversation)
    assert said[0] == (CUSTOMER, "oi") and said[2] == (CUSTOMER, "Ana")
    assert said[1][0] == "system" and "nos informe seu nome" in said[1][1]
    assert said[3] == (
        "system",
        'Muito prazer Ana! Para falar com um agente exclusivo, digite "agente".',
    )
    assert said[5] == ("system", "Um momento enquanto te transfiro ao seu agente exclusivo.")
    paths = [(method, path) for method, path, _ in seen]
    assert paths == [
        ("GET", "/callbacks/get-convo-name"),
        ("GET", "/callbacks/get-customer"),
        ("POST", "/callbacks/add-convo-name"),
        ("POST", "/callbacks/routing"),
    ]
    assert seen[-1][2] == {"customerNumber": [CUSTOMER], "conversationSid": [conversation]}


def test_flex_parking_flow_asks_for_a_queue_and_sends_to_flex(server, client):
    flow_sid, url, conversation, execution = _start(server, client, _load(PARKING))
    wait_steps(client, flow_sid, execution.sid, 1)
    _reply(client, url, conversation, "I need sales", 2)
    wait_for(lambda: len(_said(client, conversation)) >= 4)
    steps = client.studio.v2.flows(flow_sid).executions(execution.sid).steps.list()
    path = [(s.transitioned_from, s.name) for s in reversed(steps)]
    assert path[:5] == [
        ("Trigger", "incomingConversationMessage"),
        ("send_welcome", "incomingMessage"),
        ("select_queue", "match"),
        ("set_sales", "next"),
        ("send_please_wait", "sent"),
    ]
    said = _said(client, conversation)
    assert said[1][0] == "system" and said[1][1].startswith("Ahoy! To better assist you")
    assert said[3] == (
        "system",
        "Thanks! Please wait while I locate a sales representative to assist you. "
        "This may take a few minutes.",
    )
    ctx = client.studio.v2.flows(flow_sid).executions(execution.sid).execution_context().fetch()
    assert ctx.context["flow"]["variables"] == {"selected_queue": "sales"}
