"""Split Based On... conditions: the 17 operators of studio-runtime.md 3.1/3.2.

Every comparison is case-insensitive and trims both sides, as Studio documents. Where the
reference is silent we chose (and the tests pin): ``regex`` matches the whole trimmed input,
case-insensitively (``Environment.regex_fullmatch=False`` searches instead); numeric and
date/time operators never match a value they cannot parse; time and date values are compared
as naive wall-clock values, so a flow that wants "now" renders it with Liquid's ``date``
filter (Pacific time, like Studio).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from .model import State, Transition

OPERATORS = (
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
)


def _norm(text: str) -> str:
    return text.strip().casefold()


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p", "%H%M")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m-%d-%Y", "%b %d, %Y", "%B %d, %Y")


def parse_time(text: str) -> time | None:
    """A wall-clock time: ``HH:MM`` (Studio's form), with seconds, or 12-hour with AM/PM."""
    text = text.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text.upper(), fmt).time()
        except ValueError:
            continue
    try:  # a full timestamp: compare its wall-clock time
        return datetime.fromisoformat(text).time().replace(tzinfo=None)
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """A calendar date: ``YYYY-MM-DD`` (Studio's form), a few common spellings, or ISO."""
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError):
        return None


def _compare(parse: Callable[[str], Any], left: str, right: str) -> int | None:
    a, b = parse(left), parse(right)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def evaluate(operator: str, subject: str, value: str, *, regex_fullmatch: bool = True) -> bool:
    """Whether ``subject`` (the rendered input) satisfies ``operator`` against ``value``.

    Unknown operators never match.
    """
    if operator == "equal_to":
        return _norm(subject) == _norm(value)
    if operator == "not_equal_to":
        return _norm(subject) != _norm(value)
    if operator in ("matches_any_of", "does_not_match_any_of"):
        wanted = _norm(subject)
        hit = any(_norm(option) == wanted for option in value.split(","))
        return hit if operator == "matches_any_of" else not hit
    if operator == "is_blank":
        return subject.strip() == ""
    if operator == "is_not_blank":
        return subject.strip() != ""
    if operator == "regex":
        pattern = _regex(value.strip())
        if pattern is None:
            return False
        match = pattern.fullmatch if regex_fullmatch else pattern.search
        return match(subject.strip()) is not None
    if operator == "contains":
        return _norm(value) in _norm(subject)
    if operator == "does_not_contain":
        return _norm(value) not in _norm(subject)
    if operator == "starts_with":
        return _norm(subject).startswith(_norm(value))
    if operator == "does_not_start_with":
        return not _norm(subject).startswith(_norm(value))
    order: int | None
    if operator in ("less_than", "greater_than"):
        order = _compare(_number, subject, value)
        expected = -1 if operator == "less_than" else 1
    elif operator in ("is_before_time", "is_after_time"):
        order = _compare(parse_time, subject, value)
        expected = -1 if operator == "is_before_time" else 1
    elif operator in ("is_before_date", "is_after_date"):
        order = _compare(parse_date, subject, value)
        expected = -1 if operator == "is_before_date" else 1
    else:
        return False
    return order == expected


def choose(
    state: State,
    render: Callable[[Any], str],
    *,
    regex_fullmatch: bool = True,
) -> Transition | None:
    """The split's winning ``match`` transition, or None for ``noMatch``.

    Transitions are tried in definition order; one wins when it has conditions and all of them
    hold. The widget's ``input`` is the value tested (Console keeps each condition's
    ``arguments[0]`` equal to it; a condition's argument is used only when ``input`` is absent).
    """
    props: Mapping[str, Any] = state.properties
    has_input = "input" in props
    subject = render(props.get("input", "")) if has_input else None
    for transition in state.matches:
        if not transition.conditions:
            continue
        for condition in transition.conditions:
            if subject is not None:
                tested = subject
            else:
                arguments = condition.get("arguments") or [""]
                tested = render(arguments[0] if arguments else "")
            operator = str(condition.get("type") or "")
            value = "" if operator in ("is_blank", "is_not_blank") else condition.get("value", "")
            rendered = render(value if value is not None else "")
            if not evaluate(operator, tested, rendered, regex_fullmatch=regex_fullmatch):
                break
        else:
            return transition
    return None
