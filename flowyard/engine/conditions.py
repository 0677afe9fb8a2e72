"""Split Based On... conditions: the 17 operators of studio-runtime.md 3.1/3.2.

Every comparison is case-insensitive and trims both sides, as Studio documents. Where the
reference is silent we chose (and the tests pin): ``regex`` matches the whole trimmed input,
case-insensitively (``Environment.regex_fullmatch=False`` searches instead); numeric and
date/time operators never match a value they cannot parse; time and date values are compared
as naive wall-clock values, so a flow that wants "now" renders it with Liquid's ``date``
filter (Pacific time, like Studio).

``regex`` runs on the ``regex`` package under a time budget, so a backtracking pattern such as
``(a+)+b`` cannot hold the server: the regex conditions of one split share
``REGEX_TIMEOUT`` seconds. A pattern over ``MAX_PATTERN_CHARS`` or whose compiled form would be
huge (``(?:a{1000}){1000}``: counted repeats are unrolled), an input over
``MAX_SUBJECT_CHARS``, or a match still running when the budget is spent is treated like an
invalid pattern: the condition does not hold, so the split tries its next transition and
ends on ``noMatch``, as a pattern that cannot match would. Studio has no failure event on a
split, and ending the execution for an input a contact typed would be worse than a no-match
reply. The split reports the reason as a (non-fatal) error of its step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# The standard library's own parser: no public API sizes a pattern before it is compiled.
from re import _constants, _parser
from time import monotonic
from typing import Any

import regex

from .model import State, Transition

_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_SubPattern = _parser.SubPattern

REGEX_TIMEOUT = 0.05
MAX_PATTERN_CHARS = 1_000
MAX_SUBJECT_CHARS = 64 * 1024
# Nodes of a pattern once its counted repeats are unrolled; compiling costs ~2 µs a node.
MAX_PATTERN_NODES = 10_000

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


class RegexBudget(Exception):
    """A regex condition was not run to its end; it does not hold."""


def _nodes(pattern: Any) -> int:
    """Size of a parsed pattern with every repeat unrolled to its lower bound."""
    total = 0
    for op, av in pattern:
        if op in _REPEATS:
            low, _high, body = av
            total += max(low, 1) * _nodes(body)
            continue
        total += 1
        for item in av if isinstance(av, tuple | list) else (av,):
            for part in item if isinstance(item, list) else (item,):
                if isinstance(part, _SubPattern):
                    total += _nodes(part)
    return total


@lru_cache(maxsize=512)
def _regex(pattern: str) -> regex.Pattern[str] | None:
    """The compiled pattern, None when invalid; raises ``RegexBudget`` when too costly.

    The standard library's parser checks the syntax (what ``re`` accepts, as before) and
    sizes the pattern before ``regex`` compiles it, because ``regex`` unrolls counted repeats.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RegexBudget(f"pattern of {len(pattern)} characters (limit {MAX_PATTERN_CHARS})")
    try:
        size = _nodes(_parser.parse(pattern, re.IGNORECASE))
    except (re.error, OverflowError, RecursionError):
        return None
    if size > MAX_PATTERN_NODES:
        raise RegexBudget(f"pattern too large once its repeats are unrolled ({size} nodes)")
    try:
        return regex.compile(pattern, regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError):
        return None


def regex_holds(pattern: str, subject: str, *, fullmatch: bool, timeout: float) -> bool:
    """Whether ``subject`` matches ``pattern`` (case-insensitive); ``RegexBudget`` when the
    pattern, the input or the time allowed is over its budget."""
    if len(subject) > MAX_SUBJECT_CHARS:
        raise RegexBudget(f"input of {len(subject)} characters (limit {MAX_SUBJECT_CHARS})")
    compiled = _regex(pattern)
    if compiled is None:
        return False
    if timeout <= 0:
        raise RegexBudget(f"no time left of the split's {REGEX_TIMEOUT:g} s")
    match = compiled.fullmatch if fullmatch else compiled.search
    try:
        return match(subject, timeout=timeout) is not None
    except TimeoutError:
        raise RegexBudget(f"match stopped after {REGEX_TIMEOUT:g} s") from None


def _compare(parse: Callable[[str], Any], left: str, right: str) -> int | None:
    a, b = parse(left), parse(right)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def evaluate(
    operator: str,
    subject: str,
    value: str,
    *,
    regex_fullmatch: bool = True,
    regex_timeout: float = REGEX_TIMEOUT,
    problems: list[str] | None = None,
) -> bool:
    """Whether ``subject`` (the rendered input) satisfies ``operator`` against ``value``.

    Unknown operators never match. A regex over its budget does not match either; why is
    appended to ``problems`` when given.
    """
    if operator == "equal_to":
        return _norm(subject) == _norm(value)
    if operator == "not_equal_to":
        return _norm(subject) != _norm(value)
    if operator in ("matches_any_of", "does_not_match_any_of"):
        wanted = _norm(subject)
        # "yes,no," lists two options: an empty item matches nothing, not a blank input.
        hit = any(_norm(o) == wanted for o in value.split(",") if o.strip())
        return hit if operator == "matches_any_of" else not hit
    if operator == "is_blank":
        return subject.strip() == ""
    if operator == "is_not_blank":
        return subject.strip() != ""
    if operator == "regex":
        try:
            return regex_holds(
                value.strip(), subject.strip(), fullmatch=regex_fullmatch, timeout=regex_timeout
            )
        except RegexBudget as exc:
            if problems is not None:
                problems.append(f"regex {value.strip()[:80]!r} treated as no match: {exc}")
            return False
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
    problems: list[str] | None = None,
) -> Transition | None:
    """The split's winning ``match`` transition, or None for ``noMatch``.

    Transitions are tried in definition order; one wins when it has conditions and all of them
    hold. The widget's ``input`` is the value tested (Console keeps each condition's
    ``arguments[0]`` equal to it; a condition's argument is used only when ``input`` is absent).
    Regex conditions share one ``REGEX_TIMEOUT``; ``problems`` collects those over budget.
    """
    deadline = monotonic() + REGEX_TIMEOUT
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
            holds = evaluate(
                operator,
                tested,
                rendered,
                regex_fullmatch=regex_fullmatch,
                regex_timeout=deadline - monotonic(),
                problems=problems,
            )
            if not holds:
                break
        else:
            return transition
    return None
