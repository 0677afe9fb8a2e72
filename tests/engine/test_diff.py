"""Tests for the widget-level definition diff."""

from __future__ import annotations

import copy
import json
import random

import pytest

from flowyard.engine.diff import DefinitionDiff, diff_definitions
from tests.conftest import corpus_flows


def _state(name, type_, transitions=(), x=0, y=0, **props):
    return {
        "name": name,
        "type": type_,
        "transitions": list(transitions),
        "properties": {"offset": {"x": x, "y": y}, **props},
    }


def _base():
    return {
        "description": "demo",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            _state(
                "Trigger",
                "trigger",
                [{"event": "incomingMessage", "next": "ask"}, {"event": "incomingRequest"}],
            ),
            _state(
                "ask",
                "send-and-wait-for-reply",
                [{"event": "incomingMessage", "next": "split"}, {"event": "timeout"}],
                body="Hello?",
                timeout="3600",
                **{"from": "{{flow.channel.address}}"},
            ),
            _state(
                "split",
                "split-based-on",
                [
                    {"event": "noMatch"},
                    {
                        "event": "match",
                        "next": "ask",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": ["{{widgets.ask.inbound.Body}}"],
                                "type": "equal_to",
                                "value": "yes",
                            }
                        ],
                    },
                ],
                input="{{widgets.ask.inbound.Body}}",
            ),
        ],
    }


def _find(diff: DefinitionDiff, name: str):
    return next(w for w in diff.widgets if w.name == name)


def test_identical_definitions_have_no_diff():
    assert diff_definitions(_base(), _base()).is_empty


def test_offsets_and_key_order_are_ignored():
    new = _base()
    for state in new["states"]:
        state["properties"]["offset"] = {"x": random.randint(-500, 500), "y": 17}
    # Reverse the key order of every state and of the whole document.
    new["states"] = [dict(reversed(list(s.items()))) for s in reversed(new["states"])]
    new = dict(reversed(list(new.items())))
    diff = diff_definitions(_base(), new)
    assert diff.is_empty, diff.as_dict()


def test_added_widget_and_new_transition():
    new = _base()
    new["states"].append(_state("bye", "send-message", [{"event": "sent"}], body="Bye"))
    new["states"][2]["transitions"][0]["next"] = "bye"
    diff = diff_definitions(_base(), new)
    assert [w.name for w in diff.added] == ["bye"]
    added = _find(diff, "bye")
    assert added.type == "send-message"
    assert [(p.path, p.new) for p in added.properties] == [("/body", "Bye")]
    split = _find(diff, "split")
    assert split.status == "changed"
    [change] = split.transitions
    assert (change.event, change.kind, change.old_next, change.new_next) == (
        "noMatch",
        "changed",
        None,
        "bye",
    )


def test_removed_widget():
    new = _base()
    del new["states"][2]
    new["states"][1]["transitions"][0].pop("next")
    diff = diff_definitions(_base(), new)
    assert [w.name for w in diff.removed] == ["split"]
    assert _find(diff, "split").properties[0].old == "{{widgets.ask.inbound.Body}}"
    ask = _find(diff, "ask")
    assert ask.transitions[0].old_next == "split" and ask.transitions[0].new_next is None


def test_changed_properties_report_nested_paths_and_types():
    new = _base()
    new["states"][1]["properties"]["body"] = "Hi there?"
    new["states"][1]["properties"]["timeout"] = 3600  # string to integer is a change
    new["states"][1]["properties"]["media_url"] = "https://example.com/a.png"
    new["states"][2]["transitions"][1]["conditions"][0]["value"] = "no"
    diff = diff_definitions(_base(), new)
    ask = _find(diff, "ask")
    assert {(p.path, p.kind, p.old, p.new) for p in ask.properties} == {
        ("/body", "changed", "Hello?", "Hi there?"),
        ("/timeout", "changed", "3600", 3600),
        ("/media_url", "added", None, "https://example.com/a.png"),
    }
    split = _find(diff, "split")
    [transition] = split.transitions
    assert transition.event == "match" and transition.kind == "changed"
    assert transition.old_next == transition.new_next == "ask"
    assert [(c.path, c.old, c.new) for c in transition.changes] == [
        ("/conditions/0/value", "yes", "no")
    ]


def test_bool_and_number_are_not_confused():
    old, new = _base(), _base()
    old["states"][1]["properties"]["flag"] = 1
    new["states"][1]["properties"]["flag"] = True
    assert not diff_definitions(old, new).is_empty
    new["states"][1]["properties"]["flag"] = 1.0
    assert diff_definitions(old, new).is_empty


def test_type_change_is_reported():
    new = _base()
    new["states"][1]["type"] = "send-message"
    ask = _find(diff_definitions(_base(), new), "ask")
    assert (ask.old_type, ask.type) == ("send-and-wait-for-reply", "send-message")


def test_rename_is_detected_once():
    new = _base()
    new["states"][2]["name"] = "route"
    new["states"][1]["transitions"][0]["next"] = "route"
    diff = diff_definitions(_base(), new)
    assert [(w.old_name, w.name) for w in diff.renamed] == [("split", "route")]
    assert not diff.added and not diff.removed
    assert _find(diff, "ask").transitions[0].new_next == "route"


def test_second_match_transition_is_added_by_position():
    new = _base()
    second = copy.deepcopy(new["states"][2]["transitions"][1])
    second["next"] = "Trigger"
    new["states"][2]["transitions"].append(second)
    [change] = _find(diff_definitions(_base(), new), "split").transitions
    assert (change.event, change.index, change.kind, change.new_next) == (
        "match",
        1,
        "added",
        "Trigger",
    )


def test_top_level_changes():
    new = _base()
    new["initial_state"] = "ask"
    new["flags"]["allow_concurrent_calls"] = False
    diff = diff_definitions(_base(), new)
    assert {(c.path, c.old, c.new) for c in diff.top_level} == {
        ("/initial_state", "Trigger", "ask"),
        ("/flags/allow_concurrent_calls", True, False),
    }
    assert not diff.widgets


def test_as_dict_is_json_and_summarises():
    new = _base()
    new["states"].append(_state("x", "set-variables", [{"event": "next"}]))
    data = diff_definitions(_base(), new).as_dict()
    assert json.loads(json.dumps(data))["summary"] == {
        "added": 1,
        "removed": 0,
        "changed": 0,
        "renamed": 0,
    }


@pytest.mark.parametrize("junk", [None, 3, "x", {"states": "no"}, {"states": [1, None]}])
def test_malformed_definitions_do_not_raise(junk):
    diff = diff_definitions(junk, _base())
    assert {w.name for w in diff.added} == {"Trigger", "ask", "split"}


def test_corpus_flows_against_themselves_after_moves():
    files = list(corpus_flows().values())
    assert files
    for path in files:
        definition = json.loads(path.read_text())
        moved = copy.deepcopy(definition)
        for state in moved["states"]:
            state.setdefault("properties", {})["offset"] = {"x": 1, "y": 2}
        assert diff_definitions(definition, moved).is_empty, path.name
