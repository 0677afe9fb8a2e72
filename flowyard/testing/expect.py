"""Expectations of a flow test: each check returns problems as ``(what, expected, actual)``."""

from __future__ import annotations

import json
import re
from typing import Any

from .run import FlowRun

Problem = tuple[str, Any, Any]


def lookup(data: Any, dotted: str) -> Any:
    """``a.b.0.c`` in nested dicts and lists; a missing key gives ``MISSING``."""
    for part in dotted.split(".") if dotted else ():
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return MISSING
    return data


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def same(expected: Any, actual: Any) -> bool:
    """Equality as a Studio author means it: ``2`` matches ``"2"`` (Liquid makes strings),
    and ``{"matches": regex}`` / ``{"contains": text}`` match strings."""
    if isinstance(expected, dict) and set(expected) in ({"matches"}, {"contains"}):
        if not isinstance(actual, str):
            return False
        if "matches" in expected:
            return re.search(str(expected["matches"]), actual, re.S) is not None
        return str(expected["contains"]) in actual
    if expected == actual:
        return True
    if isinstance(actual, str) and not isinstance(expected, str):
        return actual in (str(expected), json.dumps(expected))
    return False


def text_problems(label: str, spec: Any, actual: str) -> list[Problem]:
    """A string spec is the exact text; objects use ``matches``/``contains``."""
    return [] if same(spec, actual) else [(label, spec, actual)]


def message_problems(label: str, spec: Any, message: Any) -> list[Problem]:
    if not isinstance(spec, dict) or set(spec) <= {"matches", "contains"}:
        return text_problems(f"{label}.body", spec, message.body)
    problems: list[Problem] = []
    fields = {"body": message.body, "to": message.to, "from": message.from_}
    fields |= {"widget": message.widget, "media_urls": list(message.media_urls)}
    for key, value in spec.items():
        if key not in fields:
            raise ValueError(f"unknown message field {key!r}")
        if not same(value, fields[key]):
            problems.append((f"{label}.{key}", value, fields[key]))
    return problems


def in_order(expected: list[str], path: list[str]) -> bool:
    remaining = iter(path)
    return all(name in remaining for name in expected)


class Checker:
    """Checks expectations against a run; remembers which messages and sounds were checked."""

    KEYS = (
        "sent",
        "heard",
        "path",
        "not_visited",
        "widgets",
        "variables",
        "context",
        "status",
        "waiting_at",
        "calls",
    )

    def __init__(self, run: FlowRun) -> None:
        self.run = run
        self.sent_seen = 0
        self.heard_seen = 0

    def check(self, expectation: dict[str, Any]) -> list[Problem]:
        unknown = set(expectation) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown expectation {', '.join(sorted(unknown))}")
        problems: list[Problem] = []
        for key, spec in expectation.items():
            problems += getattr(self, f"_{key}")(spec)
        return problems

    def _sent(self, spec: Any) -> list[Problem]:
        specs = spec if isinstance(spec, list) else [spec]
        new = self.run.sent[self.sent_seen :]
        self.sent_seen = len(self.run.sent)
        problems: list[Problem] = []
        for i, item in enumerate(specs):
            if i >= len(new):
                problems.append((f"sent[{i}]", item, "no message"))
            else:
                problems += message_problems(f"sent[{i}]", item, new[i])
        if len(new) > len(specs):
            extra = [m.body for m in new[len(specs) :]]
            problems.append(("sent (unexpected extra messages)", [], extra))
        return problems

    def _heard(self, spec: Any) -> list[Problem]:
        specs = spec if isinstance(spec, list) else [spec]
        new = self.run.heard[self.heard_seen :]
        self.heard_seen = len(self.run.heard)
        problems: list[Problem] = []
        for i, item in enumerate(specs):
            actual = new[i] if i < len(new) else "nothing"
            problems += text_problems(f"heard[{i}]", item, actual)
        if len(new) > len(specs):
            problems.append(("heard (unexpected extra)", [], new[len(specs) :]))
        return problems

    def _path(self, spec: list[str]) -> list[Problem]:
        path = self.run.path
        return [] if in_order(list(spec), path) else [("path (in this order)", spec, path)]

    def _not_visited(self, spec: list[str]) -> list[Problem]:
        visited = [name for name in spec if name in self.run.path]
        return [("not_visited", spec, f"visited {visited}")] if visited else []

    def _widgets(self, spec: dict[str, dict[str, Any]]) -> list[Problem]:
        problems: list[Problem] = []
        for widget, fields in spec.items():
            outputs = self.run.widget(widget)
            for key, value in fields.items():
                actual = lookup(outputs, key)
                if not same(value, actual):
                    problems.append((f"widgets.{widget}.{key}", value, actual))
        return problems

    def _variables(self, spec: dict[str, Any]) -> list[Problem]:
        found = self.run.variables
        return [
            (f"flow.variables.{k}", v, found.get(k, MISSING))
            for k, v in spec.items()
            if not same(v, found.get(k, MISSING))
        ]

    def _context(self, spec: dict[str, Any]) -> list[Problem]:
        context = self.run.context
        return [
            (k, v, lookup(context, k)) for k, v in spec.items() if not same(v, lookup(context, k))
        ]

    def _status(self, spec: str) -> list[Problem]:
        return [] if spec == self.run.status else [("status", spec, self.run.where())]

    def _waiting_at(self, spec: str) -> list[Problem]:
        actual = self.run.state.parked_on if self.run.active else None
        return [] if spec == actual else [("waiting_at", spec, self.run.where())]

    def _calls(self, spec: dict[str, int]) -> list[Problem]:
        counts = self.run.mocks.counts
        return [
            (f"calls.{w}", n, counts.get(w, 0)) for w, n in spec.items() if counts.get(w, 0) != n
        ]
