"""``flowyard chat --record``: turn what happened in a session into a flow test file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .mocks import as_mock
from .run import FlowRun


class Recorder:
    """Collects the script of a session: each action, then what the flow did in answer."""

    def __init__(self, run: FlowRun, flow: Path, trigger: dict[str, Any]) -> None:
        self.run = run
        self.flow = flow
        self.trigger = trigger
        self.steps: list[dict[str, Any]] = []
        self.sent = 0
        self.heard = 0
        self.subflows: dict[str, str] = {}

    def action(self, action: str, value: Any) -> None:
        self.steps.append({action: value})

    def observe(self) -> None:
        """Expect what the flow did since the last action: messages, sounds, where it is."""
        run = self.run
        expectation: dict[str, Any] = {}
        sent, self.sent = run.sent[self.sent :], len(run.sent)
        if sent:
            items = [m.body for m in sent]
            expectation["sent"] = items[0] if len(items) == 1 else items
        heard, self.heard = run.heard[self.heard :], len(run.heard)
        if heard:
            expectation["heard"] = heard
        if run.active:
            expectation["waiting_at"] = run.state.parked_on
        else:
            expectation["status"] = run.status
            expectation["path"] = run.path
        self.steps.append({"expect": expectation})

    def test(self, target: Path) -> dict[str, Any]:
        mocks: dict[str, list[dict[str, Any]]] = {}
        for widget, result in self.run.mocks.log:
            mocks.setdefault(widget, []).append(as_mock(result))
        flow = Path(os.path.relpath(self.flow.resolve(), target.resolve().parent))
        test: dict[str, Any] = {
            "name": f"recorded session of {self.flow.name}",
            "flow": flow.as_posix(),
        }
        if self.subflows:
            base = target.resolve().parent
            test["subflows"] = {
                sid: Path(os.path.relpath(Path(p).resolve(), base)).as_posix()
                for sid, p in self.subflows.items()
            }
        if mocks:
            test["mocks"] = mocks
        test["trigger"] = self.trigger
        test["steps"] = self.steps
        return test

    def write(self, target: Path) -> None:
        target.write_text(json.dumps(self.test(target), indent=2) + "\n", encoding="utf-8")


def write_tests(recorders: list[Recorder], target: Path) -> None:
    """One session is one test, as before; sessions split by ``/restart`` are the ``tests``
    of one file, numbered in the order they ran."""
    if len(recorders) == 1:
        recorders[0].write(target)
        return
    tests = []
    for number, recorder in enumerate(recorders, 1):
        test = recorder.test(target)
        test["name"] += f" ({number})"
        tests.append(test)
    target.write_text(json.dumps({"tests": tests}, indent=2) + "\n", encoding="utf-8")
