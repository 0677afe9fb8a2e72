"""Regex conditions under budget: backtracking, huge patterns and inputs never hold the engine.

Over budget, a regex condition does not hold (the split goes on to its next transition, then
``noMatch``) and the step carries a ``regex_budget`` error saying why. No timings asserted:
the outcome is what proves the match was stopped (a finished match would have said True).
"""

from __future__ import annotations

import pytest

from flowyard.engine import conditions
from flowyard.engine.conditions import MAX_PATTERN_CHARS, MAX_SUBJECT_CHARS, evaluate
from tests.engine.test_engine_widgets import session
from tests.flows import go, match, state

# Each would run for seconds to minutes (or exhaust memory) without a budget.
HOSTILE = [
    ("(a|aa)+$", "a" * 5000 + "!", "stopped after"),
    (r"(\w+\s?)+$", "a" * 5000 + "!", "stopped after"),
    ("(.*a){20}", "a" * 5000 + "!", "stopped after"),
    ("(?:a{1000}){1000}", "a", "unrolled"),
    ("(?:(?:a?){1000}){1000}", "", "unrolled"),
    ("a{4294967294}", "a", "unrolled"),
    ("a" * (MAX_PATTERN_CHARS + 1), "a", "limit"),
    (".*", "x" * (MAX_SUBJECT_CHARS + 1), "limit"),
]


@pytest.mark.parametrize(("pattern", "subject", "reason"), HOSTILE)
def test_hostile_regex_does_not_match_and_says_why(pattern, subject, reason):
    problems: list[str] = []
    assert evaluate("regex", subject, pattern, problems=problems) is False
    assert len(problems) == 1 and reason in problems[0]
    assert "treated as no match" in problems[0]


def test_ordinary_patterns_still_work_and_no_time_left_means_no_match():
    assert evaluate("regex", "12345", r"\d{5}") is True
    assert evaluate("regex", "HELLO", "hel+o") is True
    assert evaluate("regex", "x" * 200, "x{200}") is True
    assert evaluate("regex", "a", "(unclosed") is False
    problems: list[str] = []
    assert evaluate("regex", "12345", r"\d{5}", regex_timeout=0, problems=problems) is False
    assert "no time left" in problems[0]


def test_regex_conditions_of_one_split_share_one_budget(monkeypatch):
    monkeypatch.setattr(conditions, "REGEX_TIMEOUT", 0.0)
    split = state(
        "s",
        "split-based-on",
        [go("noMatch", "no"), match("yes", "regex", "(a|aa)+$", "{{flow.data.x}}")],
        input="{{flow.data.x}}",
    )
    done = state("no", "set-variables", [go("next")], variables=[{"key": "r", "value": "n"}])
    yes = state("yes", "set-variables", [go("next")], variables=[{"key": "r", "value": "y"}])
    s = session(split, done, yes)
    s.rest(x="aaa")  # would match, but the split's budget is already spent
    assert s.path()[1] == ("s", "noMatch", "no")


def test_split_with_a_backtracking_regex_takes_no_match_with_an_error():
    split = state(
        "s",
        "split-based-on",
        [go("noMatch", "no"), match("yes", "regex", "(a|aa)+$", "{{flow.data.x}}")],
        input="{{flow.data.x}}",
    )
    no = state("no", "set-variables", [go("next")], variables=[{"key": "r", "value": "n"}])
    yes = state("yes", "set-variables", [go("next")], variables=[{"key": "r", "value": "y"}])
    s = session(split, no, yes)
    s.rest(x="a" * 5000 + "!")
    assert s.path()[1] == ("s", "noMatch", "no")
    assert s.state.status == "ended"
    assert [(e.kind, e.widget, e.fatal) for e in s.errors] == [("regex_budget", "s", False)]
    assert "stopped after" in s.errors[0].message
