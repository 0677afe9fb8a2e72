"""Split conditions: every operator, Studio's trimming and case rules, and match order."""

from __future__ import annotations

import pytest

from flowyard.engine.conditions import OPERATORS, choose, evaluate, parse_date, parse_time
from flowyard.engine.liquid import render
from flowyard.engine.model import Flow

CASES = [
    # operator, input, value, expected
    ("equal_to", "Yes", "yes", True),
    ("equal_to", "  YES ", "yes ", True),
    ("equal_to", "yes please", "yes", False),
    ("equal_to", "", "", True),
    ("not_equal_to", "No", "yes", True),
    ("not_equal_to", " yes", "YES", False),
    ("matches_any_of", "Oui", "yes,Si, oui ,da", True),
    ("matches_any_of", "human", "human, unknown", True),
    ("matches_any_of", "unknown", "human, unknown", True),
    ("matches_any_of", "machine_start", "human, unknown", False),
    # Empty items of the list are dropped: a blank input matches none of "yes,no,".
    ("matches_any_of", "", "yes,no,", False),
    ("matches_any_of", " ", "yes,, no", False),
    ("matches_any_of", "no", "yes,no,", True),
    ("does_not_match_any_of", "", "yes,no,", True),
    ("matches_any_of", "“Yes”", "yes,“Yes”", True),
    ("does_not_match_any_of", "maybe", "yes,no", True),
    ("does_not_match_any_of", "NO", "yes,no", False),
    ("is_blank", "", "Is Blank", True),
    ("is_blank", "   ", "Is Blank", True),
    ("is_blank", "x", "Is Blank", False),
    ("is_not_blank", "x", "Is Not Blank", True),
    ("is_not_blank", " ", "", False),
    ("regex", "12345", r"\d{5}", True),
    ("regex", " 12345 ", r"\d{5}", True),
    ("regex", "zip 12345", r"\d{5}", False),  # whole-string match
    ("regex", "HELLO", "hel+o", True),  # case-insensitive
    ("regex", "anything", "(unclosed", False),  # invalid pattern never matches
    ("contains", "I said YES loudly", "yes", True),
    ("contains", "nope", "yes", False),
    ("does_not_contain", "nope", "yes", True),
    ("does_not_contain", "a Yes", "yes", False),
    ("starts_with", "  Stop now", "stop", True),
    ("starts_with", "please stop", "stop", False),
    ("does_not_start_with", "please stop", "stop", True),
    ("does_not_start_with", "STOP", "stop", False),
    ("less_than", "3", "4", True),
    ("less_than", " 3.5 ", "3.25", False),
    ("less_than", "-1", "0", True),
    ("less_than", "4", "4", False),
    ("less_than", "abc", "4", False),  # non-numeric never matches
    ("less_than", "", "4", False),
    ("greater_than", "10", "9", True),
    ("greater_than", "1,000", "999", True),
    ("greater_than", "nan", "1", False),
    ("greater_than", "9", "", False),
    ("is_before_time", "08:59", "09:00", True),
    ("is_before_time", "09:00", "09:00", False),
    ("is_before_time", "8:30 AM", "09:00", True),
    ("is_before_time", "not a time", "09:00", False),
    ("is_after_time", "17:01", "17:00", True),
    ("is_after_time", "05:01 PM", "17:00", True),
    ("is_after_time", "16:59:59", "17:00", False),
    ("is_before_date", "2024-01-01", "2024-01-02", True),
    ("is_before_date", "2024-01-02", "2024-01-02", False),
    ("is_before_date", "12/31/2023", "2024-01-01", True),
    ("is_after_date", "2024-03-01T10:00:00Z", "2024-02-29", True),
    ("is_after_date", "2024-02-28", "2024-02-29", False),
    ("is_after_date", "yesterday", "2024-02-29", False),
    ("no_such_operator", "a", "a", False),
]


@pytest.mark.parametrize(("operator", "subject", "value", "expected"), CASES)
def test_operator(operator, subject, value, expected):
    assert evaluate(operator, subject, value) is expected


def test_every_operator_is_covered():
    assert {c[0] for c in CASES} >= set(OPERATORS)
    assert len(OPERATORS) == 17


def test_regex_search_mode():
    assert evaluate("regex", "zip 12345", r"\d{5}", regex_fullmatch=False)


def test_parsers():
    assert parse_time("23:59").hour == 23
    assert parse_time("7 PM").hour == 19
    assert parse_date("2024-02-29").day == 29
    assert parse_date("2024-13-01") is None


def _split(*transitions, input_="{{flow.data.x}}"):
    definition = {
        "initial_state": "Trigger",
        "states": [
            {"name": "Trigger", "type": "trigger", "transitions": [], "properties": {}},
            {
                "name": "s",
                "type": "split-based-on",
                "transitions": list(transitions),
                "properties": {"input": input_},
            },
        ],
    }
    return Flow.from_definition(definition, flow_sid="FW1", revision=1).states["s"]


def _match(next_, *conditions):
    return {
        "event": "match",
        "next": next_,
        "conditions": [
            {"friendly_name": "c", "arguments": ["{{flow.data.x}}"], "type": op, "value": value}
            for op, value in conditions
        ],
    }


def _choose(split, x, **data):
    context = {"flow": {"data": {"x": x, **data}}}
    winner = choose(split, lambda template: render(template, context))
    return winner.next if winner else None


def test_first_matching_transition_wins_and_all_conditions_must_hold():
    split = _split(
        {"event": "noMatch", "next": "other"},
        _match("both", ("contains", "a"), ("contains", "b")),
        _match("a_only", ("contains", "a")),
        _match("also_a", ("starts_with", "a")),
    )
    assert _choose(split, "ab") == "both"
    assert _choose(split, "a") == "a_only"
    assert _choose(split, "zzz") is None


def test_values_are_rendered_with_liquid():
    split = _split(_match("small", ("less_than", "{{flow.data.items.size}}")))
    assert _choose(split, "1", items=[1, 2, 3]) == "small"
    assert _choose(split, "5", items=[1, 2, 3]) is None


def test_match_without_conditions_never_wins():
    split = _split({"event": "match", "next": "x", "conditions": []})
    assert _choose(split, "anything") is None


def test_condition_argument_is_used_when_input_is_missing():
    split = _split(_match("yes", ("equal_to", "ok")))
    no_input = type(split)(split.name, split.type, {}, split.transitions, split.by_event)
    assert _choose(no_input, "ok") == "yes"


def test_blank_operators_ignore_their_display_value():
    split = _split(_match("blank", ("is_blank", "Is Blank")))
    assert _choose(split, "") == "blank"
    assert _choose(split, "Is Blank") is None
