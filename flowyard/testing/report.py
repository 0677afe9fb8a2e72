"""Showing flow test results: in a terminal (rich) and as JUnit XML for CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from .suite import Result


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def failure_text(result: Result) -> str:
    """Plain text: which step failed, what was expected and what happened."""
    failure = result.failure
    if failure is None:
        return ""
    lines = []
    if failure.step is None:
        lines.append(failure.message)
    else:
        where = "trigger" if failure.step == 0 else f"step {failure.step}"
        step = result.case.steps[failure.step - 1] if failure.step else result.case.trigger
        lines.append(f"{where} ({failure.action}): {_show(step)}")
        if failure.message:
            lines.append(f"  {failure.message}")
    for what, expected, actual in failure.problems:
        lines.append(f"  {what}")
        lines.append(f"    expected: {_show(expected)}")
        lines.append(f"    actual:   {_show(actual)}")
    run = result.run
    if run is not None and run.sprint is not None:
        lines.append(f"  path: {' > '.join(run.path)}")
        lines.append(f"  now: {run.where()}")
        for error in run.errors:
            lines.append(f"  engine: {error.kind} at {error.widget}: {error.message}")
    return "\n".join(lines)


def make_console() -> Console:
    """The console ``flowyard test`` prints to. In a terminal rich wraps at its width; into a
    pipe or a CI log it would wrap at 80 columns, mid-word, so there lines are kept whole."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.soft_wrap = True
    return console


def print_results(results: list[Result], console: Console, seconds: float) -> None:
    last_file: Path | None = None
    for result in results:
        if result.case.file != last_file:
            last_file = result.case.file
            console.print(f"[bold]{escape(str(last_file))}[/bold]")
        mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(f"  {mark} {escape(result.case.name)}")
        if not result.passed:
            for line in failure_text(result).splitlines():
                console.print(f"       {escape(line)}", highlight=False)
    failed = sum(not r.passed for r in results)
    colour = "red" if failed else "green"
    console.print(
        f"[{colour}]{len(results) - failed} passed, {failed} failed[/{colour}] in {seconds:.2f}s"
    )


def junit_xml(results: list[Result]) -> str:
    """One ``testsuite`` per file, one ``testcase`` per test."""
    root = ET.Element("testsuites", name="flowyard")
    suites: dict[Path, ET.Element] = {}
    for result in results:
        file = result.case.file
        suite = suites.get(file)
        if suite is None:
            suite = suites[file] = ET.SubElement(root, "testsuite", name=str(file))
        case = ET.SubElement(
            suite,
            "testcase",
            name=result.case.name,
            classname=str(file),
            time=f"{result.seconds:.4f}",
        )
        if result.failure is not None:
            text = failure_text(result)
            node = ET.SubElement(case, "failure", message=text.splitlines()[0] if text else "")
            node.text = text
    for file, suite in suites.items():
        cases = [r for r in results if r.case.file == file]
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(not r.passed for r in cases)))
        suite.set("time", f"{sum(r.seconds for r in cases):.4f}")
    root.set("tests", str(len(results)))
    root.set("failures", str(sum(not r.passed for r in results)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
