"""Flow test files: load them, run each test's script, say which step failed and why.

The format is described in ``docs/flow-tests.md``. A file is one test, or several sharing a
flow and mocks under ``tests``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowyard.platform import fake

from .coverage import Coverage
from .expect import Checker, Problem
from .flows import FlowFile, load_flow
from .run import CONTACT, CONVERSATION, FLOW_NUMBER, FlowRun, ScriptError

ACTIONS = (
    "reply",
    "digits",
    "speech",
    "silence",
    "hangup",
    "advance",
    "redirect_return",
    "fail_delivery",
    "expect",
)
SHARED_KEYS = ("flow", "subflows", "mocks", "functions", "allow_network")


class FormatError(ValueError):
    """A test file that cannot be run as written."""


@dataclass
class Case:
    """One test: a flow, a trigger, a script."""

    name: str
    file: Path
    flow: Path
    trigger: dict[str, Any]
    steps: list[dict[str, Any]]
    mocks: dict[str, Any] = field(default_factory=dict)
    subflows: dict[str, Path] = field(default_factory=dict)
    allow_network: bool = False
    # Run Function widgets given by SIDs: function_sid (or widget name) -> URL or mock.
    functions: dict[str, Any] = field(default_factory=dict)
    # How each call the flow places ends: answered, machine, busy, no-answer, failed.
    placed_calls: list[str] = field(default_factory=list)


@dataclass
class Failure:
    """Where a test stopped: ``step`` is the 1-based script position (0: the trigger)."""

    step: int | None
    action: str
    problems: list[Problem]
    message: str = ""


@dataclass
class Result:
    case: Case
    failure: Failure | None
    seconds: float
    run: FlowRun | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise FormatError(f"{path}: a flow test file is a JSON object")
    return data


def load_cases(path: str | Path) -> list[Case]:
    """The tests in one file; paths inside are relative to the file."""
    path = Path(path)
    data = _read(path)
    shared = {k: data[k] for k in SHARED_KEYS if k in data}
    tests = data.get("tests")
    if tests is None:
        tests = [{k: v for k, v in data.items() if k not in SHARED_KEYS}]
    if not isinstance(tests, list):
        raise FormatError(f"{path}: 'tests' must be a list")
    cases = []
    for index, raw in enumerate(tests):
        if not isinstance(raw, dict):
            raise FormatError(f"{path}: tests[{index}] must be an object")
        merged = {
            **shared,
            **raw,
            "mocks": {**shared.get("mocks", {}), **raw.get("mocks", {})},
            "functions": {**shared.get("functions", {}), **raw.get("functions", {})},
        }
        cases.append(_case(path, index, merged))
    return cases


def _case(path: Path, index: int, raw: dict[str, Any]) -> Case:
    where = f"{path}: tests[{index}]"
    if "flow" not in raw:
        raise FormatError(f"{where}: no 'flow' (the flow definition file)")
    trigger = raw.get("trigger", {"rest": {}})
    if not isinstance(trigger, dict) or len(trigger) != 1:
        raise FormatError(f"{where}: 'trigger' is one of rest, message, conversation, call")
    if next(iter(trigger)) not in ("rest", "message", "conversation", "call"):
        raise FormatError(f"{where}: unknown trigger {next(iter(trigger))!r}")
    steps = raw.get("steps", [])
    for number, step in enumerate(steps, 1):
        if not isinstance(step, dict) or len(step) != 1 or next(iter(step)) not in ACTIONS:
            raise FormatError(f"{where}: step {number} must be one of {', '.join(ACTIONS)}")
    base = path.parent
    return Case(
        name=str(raw.get("name") or (path.stem if index == 0 else f"{path.stem}[{index}]")),
        file=path,
        flow=base / raw["flow"],
        trigger=trigger,
        steps=steps,
        mocks=raw.get("mocks") or {},
        subflows={sid: base / p for sid, p in (raw.get("subflows") or {}).items()},
        allow_network=bool(raw.get("allow_network", False)),
        functions=raw.get("functions") or {},
        placed_calls=_placed_calls(where, raw.get("placed_calls")),
    )


def _placed_calls(where: str, value: Any) -> list[str]:
    outcomes = [value] if isinstance(value, str) else list(value or [])
    for outcome in outcomes:
        if outcome not in fake.CALL_OUTCOMES:
            known = ", ".join(fake.CALL_OUTCOMES)
            raise FormatError(f"{where}: placed call outcome {outcome!r} is not one of {known}")
    return outcomes


def collect(paths: list[Path]) -> list[Path]:
    """Test files under ``paths``: files as given, ``*.test.json`` in directories."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.test.json")))
        else:
            files.append(path)
    return files


_FLOWS: dict[tuple[Path, tuple[tuple[str, Path], ...]], FlowFile] = {}


def _flow(case: Case) -> FlowFile:
    # Many tests share one flow: parse it once per process.
    key = (case.flow.resolve(), tuple(sorted(case.subflows.items())))
    flow = _FLOWS.get(key)
    if flow is None:
        flow = _FLOWS[key] = load_flow(case.flow, subflows=case.subflows)
    return flow


def start(case: Case) -> FlowRun:
    run = _flow(case).new_run(
        case.mocks,
        allow_network=case.allow_network,
        functions=case.functions,
        placed_calls=case.placed_calls,
    )
    kind, spec = next(iter(case.trigger.items()))
    spec = spec if spec is not None else {}
    if kind == "message":
        if isinstance(spec, str):
            spec = {"body": spec}
        return run.message(
            str(spec.get("body", "")),
            from_=spec.get("from", CONTACT),
            to=spec.get("to", FLOW_NUMBER),
        )
    if kind == "conversation":
        if isinstance(spec, str):
            spec = {"body": spec}
        return run.conversation(
            str(spec.get("body", "")),
            author=spec.get("author", CONTACT),
            conversation_sid=spec.get("conversation_sid", CONVERSATION),
        )
    if kind == "call":
        return run.call(
            from_=spec.get("from", CONTACT),
            to=spec.get("to", FLOW_NUMBER),
            outcomes=spec.get("outcomes"),
        )
    return run.rest(
        spec.get("parameters") or {},
        to=spec.get("to", CONTACT),
        from_=spec.get("from", FLOW_NUMBER),
    )


def perform(run: FlowRun, checker: Checker, action: str, value: Any) -> list[Problem]:
    """One scripted step; the problems an expectation found."""
    if action == "expect":
        if not isinstance(value, dict):
            raise FormatError("'expect' takes an object of expectations")
        return checker.check(value)
    if action == "reply":
        run.reply(str(value))
    elif action == "digits":
        run.digits(str(value))
    elif action == "speech":
        run.speech(str(value))
    elif action == "silence":
        run.silence()
    elif action == "hangup":
        run.hangup()
    elif action == "advance":
        run.advance(float(value))
    elif action == "redirect_return":
        run.redirect_return(value if isinstance(value, dict) else {})
    elif action == "fail_delivery":
        run.fail_delivery(value if isinstance(value, str) else "undelivered")
    return []


def _unmocked(run: FlowRun, seen: int) -> list[Problem]:
    return [
        (f"{widget} (no mock, network not allowed)", "a mock in 'mocks'", "an HTTP call")
        for widget in run.mocks.unmocked[seen:]
    ]


def run_case(case: Case) -> Result:
    """Run one test to its first failing step."""
    began = time.perf_counter()
    run: FlowRun | None = None

    def done(failure: Failure | None) -> Result:
        return Result(case, failure, time.perf_counter() - began, run)

    try:
        run = start(case)
    except (OSError, ValueError) as exc:
        return done(Failure(0, "trigger", [], f"{type(exc).__name__}: {exc}"))
    checker = Checker(run)
    problems = _unmocked(run, 0)
    if problems:
        return done(Failure(0, "trigger", problems))
    for number, step in enumerate(case.steps, 1):
        action, value = next(iter(step.items()))
        seen = len(run.mocks.unmocked)
        try:
            problems = perform(run, checker, action, value)
        except ScriptError as exc:
            return done(Failure(number, action, [], str(exc)))
        except (ValueError, TypeError) as exc:
            return done(Failure(number, action, [], f"invalid step: {exc}"))
        problems += _unmocked(run, seen)
        if problems:
            return done(Failure(number, action, problems))
    return done(None)


def run_paths(
    paths: list[Path], keyword: str | None = None, coverage: Coverage | None = None
) -> list[Result]:
    """Every test in every file (whose name contains ``keyword``, when given); a file that
    does not load is one failed result. ``coverage`` records what every run took."""
    results: list[Result] = []
    for file in collect(paths):
        try:
            cases = load_cases(file)
        except FormatError as exc:
            broken = Case(file.stem, file, file, {}, [])
            results.append(Result(broken, Failure(None, "load", [], str(exc)), 0.0))
            continue
        chosen = [c for c in cases if keyword is None or keyword.lower() in c.name.lower()]
        for case in chosen:
            result = run_case(case)
            if coverage is not None and result.run is not None:
                coverage.record(result.run)
            results.append(result)
    return results
