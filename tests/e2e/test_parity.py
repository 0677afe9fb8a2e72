"""Parity: every example and corpus flow, driven with the same scripted inputs in process
(``flowyard.testing``) and through ``flowyard serve`` (SDK + signed webhooks), takes the same
steps and ends with the same context, SIDs and dates aside.

One path per flow. Calls go through the server as Twilio makes them: an inbound call's
requests with the caller's answers, and each call a flow places answered, or not, as the
script says (its first webhook, or the status callback of a call that never connected).
Cases that move the virtual clock run with their Send & Wait timeouts shortened to
``SHORT_TIMEOUT`` seconds in both runs, the clock moved in proportion in process: the
server's timers run on the wall clock, which a test cannot move, and an hour is too long to
wait. Left out, each with its reason (listed by ``test_parity_covers_the_examples_and_the_corpus``):
call outcomes the server-side caller cannot script.
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
ACTIONS = {"reply", "fail_delivery", "expect", "advance", "digits", "speech", "silence", "hangup"}
SHORT_TIMEOUT = 2  # seconds: what a clock-moving case's Send & Wait timeouts become
# How the corpus flows' placed calls end: an outcome whose path needs no caller input.
PLACED = {
    "mobilebiz__seminar0325-kwc__call": ["busy"],  # answered, it waits at a gather
    "vernig__twilio-autodialer__studio-flow": ["answered"],  # a Say, then Enqueue
}


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
            outcomes = (value or {}).get("outcomes") if kind == "call" else None
            if any(action not in ACTIONS for action, _ in steps):
                reason = "an action parity cannot play through the server"
            elif outcomes and set(outcomes) - {"dial"}:
                reason = "call outcomes the server-side caller cannot script"
            if reason:
                LEFT_OUT.append((name, reason))
                continue
            definition = json.loads((file.parent / case["flow"]).read_text())
            subflows = {
                sid: json.loads((file.parent / path).read_text())
                for sid, path in (case.get("subflows") or {}).items()
            }
            scale = 1.0
            if any(action == "advance" for action, _ in steps):
                scale = _shorten([definition, *subflows.values()])
            if kind == "message":
                value = value if isinstance(value, str) else value.get("body", "")
            script = Script(
                name=name,
                definition=definition,
                trigger=(kind, value),
                steps=[_step(a, v, scale) for a, v in steps if a != "expect"],
                mocks=case.get("mocks") or {},
                subflows=subflows,
                outcomes=outcomes or {},
            )
            params.append(pytest.param(script, id=name))
    return params


def _step(action: str, value: Any, scale: float) -> tuple[str, Any]:
    """A test file's step as parity plays it; ``advance`` moved in proportion to the
    shortened timeouts."""
    if action == "fail_delivery":
        return action, value or "undelivered"
    if action == "advance":
        return action, float(value) * scale
    return action, value


def _shorten(definitions: list[dict[str, Any]]) -> float:
    """Set every Send & Wait timeout of ``definitions`` to ``SHORT_TIMEOUT``; the factor that
    moves a clock advance in proportion (the timeouts must agree, or proportion is lost)."""
    waits = [
        widget["properties"]
        for definition in definitions
        for widget in definition["states"]
        if widget["type"] == "send-and-wait-for-reply" and "timeout" in widget["properties"]
    ]
    found = {int(props["timeout"]) for props in waits}
    assert len(found) == 1, f"timeouts {found}: no one factor moves the clock in proportion"
    for props in waits:
        props["timeout"] = str(SHORT_TIMEOUT)
    return SHORT_TIMEOUT / found.pop()


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
            placed = PLACED.get(path.stem, []) if types & set(PLACES_CALLS) else []
            script = Script(
                name, definition, trigger, subflows=subflows, replies=REPLIES, placed=placed
            )
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
    """Every case is compared, voice, clock-moving and call-placing ones included; none is
    left out today (the reasons a case could be are checked all the same)."""
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
    assert reasons <= {
        "an action parity cannot play through the server",
        "call outcomes the server-side caller cannot script",
    }
    assert LEFT_OUT == []
    assert len(examples) >= 13  # every example case: messaging, REST, voice, clock-moving
    if (SHARED / "flows").is_dir():  # the whole corpus, not only the copies in tests/data
        assert len(corpus) >= 24
        assert len(examples) + len(corpus) + len(LEFT_OUT) >= 37
