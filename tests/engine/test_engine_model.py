"""The definition model, JSON round-trips of the state, patches, and the public API shape."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import flowyard.engine as engine
from flowyard.engine import (
    ExecutionState,
    Flow,
    Frame,
    ServiceCall,
    Wait,
    apply_patch,
)
from flowyard.engine.testing import CounterSids, VirtualClock, VirtualEnvironment
from flowyard.testing.session import Session
from tests.flows import flow, go, match, state

FLOW_SID = "FW" + "a" * 32


def test_from_definition_indexes_states_and_transitions():
    definition = flow(
        state(
            "s",
            "split-based-on",
            [
                go("noMatch"),
                match("a", "equal_to", "1", "{{x}}"),
                match("b", "equal_to", "2", "{{x}}"),
            ],
            input="{{x}}",
        ),
        state("a", "set-variables", [go("next", "")]),
        state("b", "set-variables", [go("next", "nowhere")]),
        rest="s",
    )
    parsed = Flow.from_definition(definition, flow_sid=FLOW_SID, revision=3)
    assert parsed.flow_sid == FLOW_SID and parsed.revision == 3
    assert parsed.initial_state == "Trigger"
    assert set(parsed.states) == {"Trigger", "s", "a", "b"}
    assert parsed.allow_concurrent_calls is True
    # Without flags (or without the key) concurrent calls are allowed: Studio's default.
    bare = {key: value for key, value in definition.items() if key != "flags"}
    for without in (bare, {**bare, "flags": {}}):
        assert Flow.from_definition(without, flow_sid=FLOW_SID, revision=1).allow_concurrent_calls
    off = {**definition, "flags": {"allow_concurrent_calls": False}}
    assert not Flow.from_definition(off, flow_sid=FLOW_SID, revision=1).allow_concurrent_calls
    split = parsed.states["s"]
    assert [t.next for t in split.matches] == ["a", "b"]
    assert split.transition("noMatch").next is None
    assert parsed.states["a"].transition("next").next is None  # "" means end of branch
    assert parsed.trigger_events()["incomingRequest"] == "s"
    assert parsed.trigger_events()["incomingMessage"] is None


def test_from_definition_is_lenient_and_refuses_non_definitions():
    odd = {
        "states": [
            {"name": "T", "type": "trigger"},
            "junk",
            {"type": "no-name"},
            {"name": "T", "type": "send-message"},
        ]
    }
    parsed = Flow.from_definition(odd, flow_sid=FLOW_SID, revision=1)
    assert parsed.initial_state == "T"
    assert parsed.states["T"].type == "trigger"  # first of duplicate names wins
    for bad in ([], {"states": "x"}, "text"):
        with pytest.raises(ValueError):
            Flow.from_definition(bad, flow_sid=FLOW_SID, revision=1)


def test_execution_state_round_trips_through_json():
    original = ExecutionState(
        execution_sid="FN1",
        flow_sid=FLOW_SID,
        flow_revision=2,
        context={"flow": {"sid": "FN1"}, "widgets": {"w": {"a": [1, {"b": None}]}}},
        parked_on="w",
        wait=Wait("reply", "w", 1700000000.5),
        pending=ServiceCall("http", "w", {"url": "https://x", "query": [["a", "1"]]}),
        step_count=7,
        consecutive_runs=2,
        last_widget="w",
        last_step_sid="FT1",
        frames=[Frame("FW2", 4, "sub", {"flow": {}}, "FT0")],
        started_at=1.0,
        expires_at=2.0,
        ended_reason=None,
    )
    text = json.dumps(original.to_json())
    assert ExecutionState.from_json(json.loads(text)) == original
    assert ExecutionState.from_json({"execution_sid": "FN1", "flow_sid": FLOW_SID}).active


def test_apply_patch_is_pure_and_ordered():
    base = {"flow": {"sid": "FN1"}, "widgets": {"a": {"x": 1}}}
    after = apply_patch(base, {"widgets": {"b": {}}, "variables": {"v": "1"}})
    assert after == {
        "flow": {"sid": "FN1", "variables": {"v": "1"}},
        "widgets": {"a": {"x": 1}, "b": {}},
    }
    assert base == {"flow": {"sid": "FN1"}, "widgets": {"a": {"x": 1}}}
    again = apply_patch(after, {"widgets": {"a": {"y": 2}}, "variables": {"w": "2"}})
    assert again["widgets"]["a"] == {"y": 2}  # a widget's entry is replaced, not merged
    assert again["flow"]["variables"] == {"v": "1", "w": "2"}
    swapped = apply_patch(again, {"context": {"widgets": {}}, "widgets": {"c": {"z": 3}}})
    assert swapped == {"widgets": {"c": {"z": 3}}}


def test_base_context_plus_patches_rebuilds_every_step():
    definition = flow(
        state("v1", "set-variables", [go("next", "ask")], variables=[{"key": "n", "value": "1"}]),
        state("ask", "send-and-wait-for-reply", [go("incomingMessage", "v2")], body="Hi"),
        state(
            "v2",
            "set-variables",
            [go("next", "bye")],
            variables=[{"key": "n", "value": "{{flow.variables.n | plus: 1}}"}],
        ),
        state("bye", "send-message", [go("sent")], body="{{flow.variables.n}}"),
        rest="v1",
    )
    session = Session(Flow.from_definition(definition, flow_sid=FLOW_SID, revision=1))
    session.rest(name="x")
    snapshots = [json.loads(json.dumps(session.base_context))]
    session.reply("ok")
    context = session.base_context
    for step in session.steps:
        context = apply_patch(context, step.patch)
    assert context == session.context
    assert context["flow"]["variables"] == {"n": "2"}
    # The base never changed while the run went on.
    assert session.base_context == snapshots[0]


def test_virtual_environment_pieces():
    clock = VirtualClock()
    first = clock.now()
    clock.advance(90)
    assert (clock.now() - first).total_seconds() == 90
    sids = CounterSids()
    assert sids("FT") == "FT" + "0" * 31 + "1"
    assert sids("FT").endswith("2") and sids("FN").endswith("1")
    assert len(sids("XX")) == 34
    env = VirtualEnvironment(clock=clock)
    assert env.now() == clock.now()
    assert env.max_steps == 1000 and env.max_same_widget_in_a_row == 10
    assert env.lifetime_seconds == 30 * 86400 and env.liquid_loop_limit == 15
    assert env.http_timeout == 10 and env.http_max_bytes == 65536


def test_public_api_is_exported():
    for name in (
        "start",
        "resume",
        "end",
        "run_until_wait",
        "apply_patch",
        "Flow",
        "ExecutionState",
        "Environment",
        "Trigger",
        "Reply",
        "Timeout",
        "DeliveryFailure",
        "CallResult",
        "Sprint",
        "Step",
        "ServiceCall",
        "Wait",
    ):
        assert hasattr(engine, name), name


RUNTIME_MODULES = (
    "__init__",
    "model",
    "state",
    "io",
    "environment",
    "liquid",
    "conditions",
    "context",
    "run",
    "runner",
    "services",
    "testing",
)


def test_engine_imports_nothing_from_the_host():
    root = Path(engine.__file__).parent
    paths = [root / f"{name}.py" for name in RUNTIME_MODULES]
    for path in [*paths, *root.glob("widgets/*.py")]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert not node.module.startswith("flowyard"), (path, node.module)
                assert node.module.split(".")[0] not in ("sqlalchemy", "starlette", "httpx")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("flowyard", "sqlalchemy", "starlette"))
