"""Every corpus flow with a messaging or REST entry runs to an end or a wait, cleanly.

Replies are scripted, HTTP/Function calls answer ``200 {}``, messages and tasks are accepted
by stubs. A flow may legitimately take failure branches (placeholder URLs, the retired
Autopilot); what must never happen is an engine error: an exception, an internal error, an
unsupported widget or an input the engine mishandled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowyard.engine import Flow
from flowyard.engine.testing import VirtualEnvironment
from flowyard.testing.session import Session
from tests.conftest import SHARED, corpus_flows, shared_path

CORPUS = corpus_flows()  # tests/data/flows first, ../shared/flows for the rest
FILES = list(CORPUS.values())
REPLIES = ["1", "yes", "2", "no", "hello", "3", "Agent", "STOP"]
ENGINE_ERRORS = {
    "internal",
    "unsupported_widget",
    "not_parked",
    "unexpected_input",
    "no_trigger",
    "too_many_calls",
}
# The subflow pair in the corpus: both parents call FW5012... (their child flow).
SUBFLOW_SID = "FW50120385f4d1e8dcf30c0bcd83695969"
_PAIR = "anthonyjdella__level-up-with-twilio-studio__daily-sit-down"
CHILDREN = {
    f"{_PAIR}-parent.json": f"{_PAIR}-child.json",
    f"{_PAIR}.json": f"{_PAIR}-subflow.json",
}


def load(path: Path, sid: str = "FW" + "e" * 32) -> Flow:
    return Flow.from_definition(json.loads(path.read_text()), flow_sid=sid, revision=1)


def cases():
    for path in FILES:
        events = load(path).trigger_events()
        for event in ("incomingMessage", "incomingRequest"):
            if events.get(event):
                yield pytest.param(path, event, id=f"{path.stem[:60]}-{event}")


def environment(path: Path) -> VirtualEnvironment:
    child = CHILDREN.get(path.name)
    subflows = {SUBFLOW_SID: load(CORPUS[child], SUBFLOW_SID)} if child else {}
    return VirtualEnvironment(subflows=subflows)


@pytest.mark.parametrize(("path", "event"), list(cases()))
def test_corpus_flow_runs_cleanly(path, event):
    session = Session(load(path), environment(path))
    if event == "incomingMessage":
        session.text("hello")
    else:
        session.rest(name="Test", medium="SMS", prompt="Hi?", language="EN")
    for turn in range(2 * len(REPLIES)):
        if session.state.status != "active":
            break
        session.reply(REPLIES[turn % len(REPLIES)])
    state = session.state
    assert state.status == "ended" or (state.wait is not None and state.pending is None)
    assert session.steps and session.steps[0].transitioned_from == load(path).initial_state
    bad = [e for e in session.errors if e.kind in ENGINE_ERRORS or e.fatal]
    assert bad == [], bad


def test_corpus_exists_or_skips():
    if not (SHARED / "flows").is_dir():
        pytest.skip(f"{SHARED} is absent: {len(FILES)} copied flows only (not copied: license)")
    assert len(list(cases())) >= 25


def test_corpus_parent_runs_its_child_subflow():
    parent = shared_path("flows", f"{_PAIR}-parent.json")
    session = Session(load(parent), environment(parent))
    session.stubs.respond = lambda call: (200, {"name": "ann"}, "application/json")
    session.text("hi")
    assert session.state.frames and session.stubs.messages[-1]["body"] == (
        "ANN what did you do yesterday?"
    )
    session.reply("coding")
    session.reply("more coding")
    session.reply("none")
    assert not session.state.frames
    assert session.stubs.messages[-1]["body"].startswith("Thanks, ann now get back to work.")
    assert session.context["widgets"]["ask_questions"]["name"] == "ann"
    assert session.context["widgets"]["ask_questions"]["impediments"] == "none"
    session.reply("1")
    assert session.state.status == "ended"
    inner = [s for s in session.steps if s.parent_step_sid]
    assert inner[0].name == "incomingParent" and inner[-1].transitioned_to == "Ended"
    assert session.errors == []
