"""Drive one scripted path of a flow twice: in process (``flowyard.testing.FlowRun``) and
through a real ``flowyard serve`` (SDK REST create, signed inbound SMS and status callbacks).

HTTP and Function widgets of both runs call one local ``Answers`` server, which answers per
widget from the script's mocks (``200 {}`` by default), so their outputs match byte for byte.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flowyard.engine import Flow
from flowyard.engine.testing import inbound_sms
from flowyard.platform import fake
from flowyard.testing import CONTACT, FLOW_NUMBER, FlowRun, Mocks
from tests.e2e.helpers import post_signed, wait_for, webhook_url
from tests.e2e.parity_voice import VOICE, Callee, caller_answers, caller_outcomes

HTTP_TYPES = ("make-http-request", "run-function")
REFUSED = "http://127.0.0.1:9/refused"  # nothing listens: a mocked network error
_SID = re.compile(r"\b([A-Z]{2})[0-9a-f]{32}\b")
# A timestamp, or a day alone (Liquid's ``"now" | date``): the clocks differ.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?")


@dataclass
class Script:
    """One path through a flow: a trigger and the contact's actions."""

    name: str
    definition: dict[str, Any]
    trigger: tuple[str, Any]  # ("message", body) or ("rest", {"to", "parameters"})
    steps: list[tuple[str, Any]] = field(default_factory=list)  # reply / fail_delivery
    mocks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    subflows: dict[str, dict[str, Any]] = field(default_factory=dict)  # flow SID -> definition
    # Corpus flows: reply to every Send & Wait with these, in turn, while one is waiting.
    replies: list[str] = field(default_factory=list)
    # How each call the flow places ends (``fake.CALL_OUTCOMES``), in order; answered by a
    # person once the list runs out (as ``FlowRun`` does).
    placed: list[str] = field(default_factory=list)
    # A call trigger's Dial/Enqueue... outcomes, as a test file's ``call.outcomes``.
    outcomes: dict[str, dict[str, str]] = field(default_factory=dict)


class Answers:
    """The HTTP endpoint both runs call: ``/<side>/<script>/<widget>`` answers the widget's
    next mocked response; no Date or Server header, so the outputs compare exactly."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.mocks: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.counts: defaultdict[str, int] = defaultdict(int)

    def answer(self, path: str) -> tuple[int, str, bytes]:
        _, _side, script, widget = path.split("?")[0].split("/", 3)
        listed = self.mocks.get(script, {}).get(widget) or [{"status": 200, "body": {}}]
        index = self.counts[path.split("?")[0]]
        self.counts[path.split("?")[0]] += 1
        mock = listed[min(index, len(listed) - 1)]
        body = mock.get("body", "")
        text = body if isinstance(body, str) else json.dumps(body)
        kind = mock.get("content_type") or (
            "text/plain" if isinstance(body, str) else "application/json"
        )
        return int(mock.get("status", 200)), kind, text.encode()


@contextmanager
def answers_server() -> Iterator[Answers]:
    answers = Answers("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, kind, body = answers.answer(self.path)
            self.send_response_only(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    answers.base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield answers
    finally:
        server.shutdown()


def routed(
    definition: dict[str, Any], base: str, mocks: dict[str, Any], sids: dict[str, str]
) -> dict[str, Any]:
    """``definition`` with its HTTP widgets sent to ``base`` (or nowhere, for a mocked error)
    and its subflows renamed to ``sids``."""
    definition = copy.deepcopy(definition)
    for state in definition.get("states", []):
        props = state.setdefault("properties", {})
        if state["type"] in HTTP_TYPES:
            errors = [m for m in mocks.get(state["name"], []) if "error" in m]
            props["url"] = REFUSED if errors else f"{base}/{state['name']}"
        if state["type"] == "run-subflow" and props.get("flow_sid") in sids:
            props["flow_sid"] = sids[props["flow_sid"]]
    return definition


def plain(value: Any) -> Any:
    """``value`` with every SID reduced to its prefix and every date to ``<date>``."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return _DATE.sub("<date>", _SID.sub(r"\1…", value))
    return value


@dataclass
class Outcome:
    path: list[tuple[str, str, str]]
    context: dict[str, Any]
    status: str
    marks: list[int]  # steps taken after the trigger and after each action
    actions: list[tuple[str, Any]] = field(default_factory=list)  # what the contact did
    placed: list[int] = field(default_factory=list)  # calls placed by then, at each mark


def in_process(script: Script, answers: Answers, sids: dict[str, str]) -> Outcome:
    """The script through ``FlowRun``, as ``flowyard test`` runs it."""
    answers.mocks[script.name] = script.mocks
    base = f"{answers.base}/local/{script.name}"
    subflows = {
        sids[old]: Flow.from_definition(
            routed(child, base, script.mocks, {}), flow_sid=sids[old], revision=1
        )
        for old, child in script.subflows.items()
    }
    definition = routed(script.definition, base, script.mocks, sids)
    flow = Flow.from_definition(definition, flow_sid="FW" + "e" * 32, revision=1)
    run = FlowRun(
        flow, mocks=Mocks(allow_network=True), subflows=subflows, placed_calls=script.placed
    )
    kind, value = script.trigger
    if kind == "message":
        run.message(value)
    elif kind == "call":
        run.call(from_=CONTACT, to=FLOW_NUMBER, outcomes=script.outcomes)
    else:
        run.rest(value.get("parameters") or {}, to=value.get("to", CONTACT))

    def placed() -> int:
        return sum(1 for call in run.calls if call.kind == "call")

    marks, done, calls = [len(run.steps)], [], [placed()]
    for action, arg in actions(script, run):
        done.append((action, arg))
        if action == "reply":
            run.reply(arg)
        elif action == "fail_delivery":
            run.fail_delivery(arg)
        elif action == "advance":
            run.advance(arg)
        elif action in ("silence", "hangup"):
            getattr(run, action)()
        else:  # digits, speech
            getattr(run, action)(arg)
        marks.append(len(run.steps))
        calls.append(placed())
    path = [(s.transitioned_from, s.name, s.transitioned_to) for s in run.steps]
    return Outcome(path, run.context, run.status, marks, done, calls)


def actions(script: Script, run: FlowRun) -> Iterator[tuple[str, Any]]:
    """The scripted actions; for corpus flows, a reply while a Send & Wait is waiting."""
    yield from script.steps
    for turn in range(2 * len(script.replies)):
        if run.waiting_for != "reply":
            return
        yield "reply", script.replies[turn % len(script.replies)]


def create_subflows(script: Script, answers: Answers, client: Any) -> dict[str, str]:
    """The script's subflows created on the server: their SIDs there, by their old SIDs."""
    base = f"{answers.base}/server/{script.name}"
    sids = {}
    for old, child in script.subflows.items():
        definition = routed(child, base, script.mocks, {})
        made = client.studio.v2.flows.create(
            friendly_name="child", status="published", definition=definition
        )
        sids[old] = made.sid
    return sids


def through_server(
    script: Script, answers: Answers, client: Any, server: Any, sids: dict[str, str], local: Outcome
) -> Outcome:
    """The same script through the server, paced by the steps the in-process run took."""
    base = f"{answers.base}/server/{script.name}"
    flows = client.studio.v2.flows
    definition = routed(script.definition, base, script.mocks, sids)
    flow = flows.create(friendly_name=script.name[:64], status="published", definition=definition)
    url = webhook_url(server.base_url, client.username, flow.sid)
    kind, value = script.trigger
    contact = value.get("to", CONTACT) if kind == "rest" else CONTACT
    callee = Callee(server, client, script.placed)
    if kind == "call":
        # The caller's whole part at once: Twilio's requests follow the TwiML.
        callee.voice.call(flow.sid, CONTACT, FLOW_NUMBER, answers=caller_answers(local.actions),
                          outcomes=caller_outcomes(script.outcomes))  # fmt: skip
        (execution,) = wait_for(lambda: flows(flow.sid).executions.list(), interval=0.02)
    elif kind == "message":
        _post(url, client, inbound_sms(value, CONTACT, FLOW_NUMBER))
        (execution,) = wait_for(lambda: flows(flow.sid).executions.list(), interval=0.02)
    else:
        execution = flows(flow.sid).executions.create(
            to=contact, from_=FLOW_NUMBER, parameters=value.get("parameters") or {}
        )
    callee.drive(local.placed[0])
    for index, ((action, arg), count) in enumerate(zip(local.actions, local.marks, strict=False)):
        wait_steps(client, flow.sid, execution.sid, count, timeout=15)
        if action in VOICE or action == "advance":
            pass  # the call played it already; the server's timer fires on the wall clock
        elif action == "reply":
            _post(url, client, inbound_sms(arg, contact, FLOW_NUMBER))
        else:
            (last, *_) = client.messages.list(to=contact, limit=1)
            outbound = {
                "Sid": last.sid,
                "To": last.to,
                "From": last.from_,
                "AccountSid": last.account_sid,
                "MessagingServiceSid": last.messaging_service_sid,
            }
            params = fake.delivery_callback(outbound, execution.sid, arg)
            _post(f"{url}?executionSid={execution.sid}", client, params)
        callee.drive(local.placed[index + 1])
    wait_steps(client, flow.sid, execution.sid, local.marks[-1], timeout=15)
    handle = flows(flow.sid).executions(execution.sid)
    if local.status == "ended":
        wait_for(lambda: handle.fetch().status == "ended", timeout=15, interval=0.02)
    steps = list(reversed(handle.steps.list()))
    context = handle.execution_context().fetch().context
    path = [(s.transitioned_from, s.name, s.transitioned_to) for s in steps]
    return Outcome(path, context, handle.fetch().status, local.marks, local.actions)


def wait_steps(client: Any, flow_sid: str, execution_sid: str, count: int, timeout: float) -> None:
    """Until the execution took ``count`` steps; polled often, the sprints are quick."""
    steps = client.studio.v2.flows(flow_sid).executions(execution_sid).steps
    wait_for(lambda: len(steps.list(limit=count + 1)) >= count, timeout, interval=0.02)


def _post(url: str, client: Any, params: dict[str, str]) -> None:
    params = dict(params)
    for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
        if key in params and "executionSid" not in params:
            params[key] = "SM" + uuid.uuid4().hex  # each message is new to the server
    if "AccountSid" in params:
        params["AccountSid"] = client.username
    response = post_signed(url, client.password, params)
    assert response.status_code == 200, response.text
