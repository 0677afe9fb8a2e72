"""Parity: every example and corpus flow, driven with the same scripted inputs in process
(``flowyard.testing``) and through ``flowyard serve`` (SDK + signed webhooks), takes the same
steps and ends with the same context, SIDs and dates aside.

One path per flow. Left out, each with its reason: voice flows (``tests/voice`` drives calls
through both), example cases that move the virtual clock (a server's timers run on the wall
clock), and flows that place calls (a simulated call waits for a test client to answer it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED
from tests.e2e.parity import (
    Script,
    answers_server,
    create_subflows,
    in_process,
    plain,
    through_server,
)
from tests.engine.test_engine_corpus import CHILDREN, CORPUS, FILES, REPLIES, SUBFLOW_SID, load
from tests.flows import flow, go, state

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLACES_CALLS = ("make-outgoing-call-v1", "make-outgoing-call-v2")
ACTIONS = {"reply", "fail_delivery", "expect"}


# Cases not compared here, with why (see test_parity_covers_the_examples_and_the_corpus).
LEFT_OUT: list[tuple[str, str]] = []


def _example_scripts() -> list[Any]:
    params = []
    for file in sorted(EXAMPLES.glob("*/*.test.json")):
        data = json.loads(file.read_text())
        tests = data.get("tests") or [data]
        for index, case in enumerate(tests):
            case = {**data, **case, "mocks": {**data.get("mocks", {}), **case.get("mocks", {})}}
            name = f"{file.parent.name}-{index}"
            kind, value = next(iter((case.get("trigger") or {"rest": {}}).items()))
            steps = [next(iter(step.items())) for step in case.get("steps", [])]
            reason = None
            if kind not in ("message", "rest"):
                reason = f"{kind} trigger: voice is compared by tests/voice"
            elif any(action not in ACTIONS for action, _ in steps):
                reason = "moves the virtual clock: the server's timers run on the wall clock"
            if reason:
                LEFT_OUT.append((name, reason))
                continue
            value = value if kind == "rest" or isinstance(value, str) else value.get("body", "")
            script = Script(
                name=name,
                definition=json.loads((file.parent / case["flow"]).read_text()),
                trigger=(kind, value),
                steps=[
                    (a, v if a == "reply" else (v or "undelivered"))
                    for a, v in steps
                    if a != "expect"
                ],
                mocks=case.get("mocks") or {},
                subflows={
                    sid: json.loads((file.parent / path).read_text())
                    for sid, path in (case.get("subflows") or {}).items()
                },
            )
            params.append(pytest.param(script, id=name))
    return params


def _action(action: str, value: Any) -> tuple[str, Any]:
    return (action, value if action == "reply" else (value or "undelivered"))


def _corpus_scripts() -> list[Any]:
    params = []
    for path in FILES:
        flow = load(path)
        events = flow.trigger_events()
        definition = json.loads(path.read_text())
        types = {state["type"] for state in definition["states"]}
        child = CHILDREN.get(path.name)
        subflows = {SUBFLOW_SID: json.loads(CORPUS[child].read_text())} if child else {}
        for event in ("incomingMessage", "incomingRequest"):
            if not events.get(event):
                continue
            name = f"{path.stem}-{event}"
            trigger = (
                ("message", "hello")
                if event == "incomingMessage"
                else ("rest", {"parameters": {"name": "Test", "medium": "SMS", "prompt": "Hi?"}})
            )
            if types & set(PLACES_CALLS):
                LEFT_OUT.append((name, "places a call: answered by tests/voice"))
                continue
            script = Script(name, definition, trigger, subflows=subflows, replies=REPLIES)
            params.append(pytest.param(script, id=name))
    return params


# Row 18 of issue 12 in one flow: a Messaging Service send (NumSegments "0"), a delivery
# failure with Twilio's full callback, an empty message refused (21602), a Flex task whose
# attributes Twilio re-serialises.
CONTACT, FLOW = "{{contact.channel.address}}", "{{flow.channel.address}}"
TWILIO_FAKE = flow(
    state("Service", "send-message", [go("sent", "Ask"), go("failed", "Ask")],
          body="hi", to=CONTACT, **{"from": "MG" + "1" * 32}),
    state("Ask", "send-and-wait-for-reply",
          [go("incomingMessage"), go("timeout"), go("deliveryFailure", "Empty")],
          body="Still there?", timeout="3600", **{"from": FLOW}),
    state("Empty", "send-message", [go("sent"), go("failed", "Flex")],
          body="{{nothing}}", to=CONTACT, **{"from": FLOW}),
    state("Flex", "send-to-flex", [go("callComplete"), go("failedToEnqueue"), go("callFailure")],
          workflow="WW1", channel="TC1", attributes='{ "name" : "{{trigger.message.From}}" }'),
    message="Service",
)  # fmt: skip
FAKE_SCRIPTS = [
    pytest.param(
        Script("twilio-fake", TWILIO_FAKE, ("message", "hi"), [("fail_delivery", "failed")]),
        id="twilio-fake",
    )
]


@pytest.fixture(scope="module")
def answers():
    with answers_server() as answers:
        yield answers


@pytest.mark.parametrize("script", FAKE_SCRIPTS + _example_scripts() + _corpus_scripts())
def test_in_process_and_server_agree(script: Script, answers, server, client):
    sids = create_subflows(script, answers, client)
    local = in_process(script, answers, sids)
    remote = through_server(script, answers, client, server, sids, local)
    assert remote.path == local.path
    assert remote.status == local.status
    assert plain(remote.context) == plain(local.context)
    if script.name == "twilio-fake":
        widgets = local.context["widgets"]
        assert widgets["Service"]["outbound"]["NumSegments"] == "0"
        assert widgets["Ask"]["ErrorCode"] == "30003" and widgets["Ask"]["SmsStatus"] == "failed"
        assert set(widgets["Ask"]) >= {"To", "MessageSid", "SmsSid", "AccountSid", "executionSid"}
        assert [s[2] for s in local.path][-2:] == ["Flex", "Ended"]
        assert widgets["Flex"]["attributes"] == '{"name":"+15550001111"}'


def test_parity_covers_the_examples_and_the_corpus():
    """Every case is compared but those left out for a reason: voice (tests/voice compares
    it), a moved virtual clock (the server's timers run on the wall clock), a placed call."""
    if not FILES:
        pytest.skip("no corpus flow is available (tests/data/flows, ../shared/flows)")
    LEFT_OUT.clear()
    examples, corpus = _example_scripts(), _corpus_scripts()
    assert len(examples) >= 5
    # Every corpus flow at hand with a messaging or REST entry is compared or left out.
    entries = {
        f"{path.stem}-{event}"
        for path in FILES
        for event in ("incomingMessage", "incomingRequest")
        if load(path).trigger_events().get(event)
    }
    left_out = {name for name, _reason in LEFT_OUT}
    assert {case.id for case in corpus} | (left_out & entries) == entries
    reasons = {reason.split(":")[0] for _name, reason in LEFT_OUT}
    assert reasons <= {"call trigger", "moves the virtual clock", "places a call"}
    if (SHARED / "flows").is_dir():  # the whole corpus, not only the copies in tests/data
        assert len(corpus) >= 20
        assert len(examples) + len(corpus) + len(LEFT_OUT) >= 35
