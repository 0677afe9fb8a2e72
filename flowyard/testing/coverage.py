"""Flow coverage: which widgets ran and which transitions were taken, across test runs.

Each flow file (a subflow too) counts its widgets and its transitions: every event of every
widget once (the first transition for an event is the one followed), and each ``match``
condition of a split on its own; the trigger's unwired events (channels the flow does not
take) are left out. A run adds the steps it took; ``report()`` says what was
never taken. Coverage is ``(widgets ran + transitions taken) / (widgets + transitions)``, as
coverage.py counts lines and branches together.

    cov = Coverage()
    run = load_flow("survey.json").start()
    cov.record(run)
    print(cov.report().percent)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowyard.engine import Flow

from .run import FlowRun

END = "Ended"


@dataclass(frozen=True)
class Edge:
    """One transition of a widget: ``match`` is the condition's index among a split's."""

    widget: str
    event: str
    next: str | None
    match: int | None = None
    label: str = ""  # a condition's friendly name

    @property
    def key(self) -> tuple[str, str, int | None]:
        return self.widget, self.event, self.match

    def describe(self) -> str:
        event = self.event
        if self.match is not None:
            event = f"match[{self.match}{': ' + self.label if self.label else ''}]"
        return f"{self.widget} --{event}--> {self.next or END}"


@dataclass
class FlowCoverage:
    """One flow file: its widgets and transitions, and how often each was used."""

    path: Path
    widgets: list[str]
    edges: list[Edge]
    ran: Counter[str] = field(default_factory=Counter)
    taken: Counter[tuple[str, str, int | None]] = field(default_factory=Counter)

    @classmethod
    def of(cls, path: Path, flow: Flow) -> FlowCoverage:
        edges: list[Edge] = []
        for state in flow.states.values():
            seen: set[str] = set()
            matches = 0
            for transition in state.transitions:
                if state.type == "trigger" and transition.next is None:
                    continue  # a channel the flow does not take: not a branch of its own
                if transition.event == "match":
                    label = str((transition.conditions or [{}])[0].get("friendly_name") or "")
                    edges.append(Edge(state.name, "match", transition.next, matches, label))
                    matches += 1
                elif transition.event not in seen:  # later duplicates are never followed
                    seen.add(transition.event)
                    edges.append(Edge(state.name, transition.event, transition.next))
        return cls(path, list(flow.states), edges)

    @property
    def widgets_ran(self) -> int:
        return sum(1 for name in self.widgets if self.ran[name])

    @property
    def edges_taken(self) -> int:
        return sum(1 for edge in self.edges if self.taken[edge.key])

    @property
    def untaken(self) -> list[Edge]:
        return [edge for edge in self.edges if not self.taken[edge.key]]

    @property
    def percent(self) -> float:
        total = len(self.widgets) + len(self.edges)
        return 100.0 * (self.widgets_ran + self.edges_taken) / total if total else 100.0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "percent": round(self.percent, 2),
            "widgets": {
                "total": len(self.widgets),
                "ran": self.widgets_ran,
                "counts": {name: self.ran[name] for name in self.widgets},
            },
            "transitions": {
                "total": len(self.edges),
                "taken": self.edges_taken,
                "edges": [
                    {
                        "widget": e.widget,
                        "event": e.event,
                        "match": e.match,
                        "label": e.label,
                        "next": e.next,
                        "count": self.taken[e.key],
                    }
                    for e in self.edges
                ],
            },
        }


@dataclass
class Report:
    flows: list[FlowCoverage]

    def print(self, console: Any) -> None:
        """A table per flow, then every transition never taken (a rich ``Console``)."""
        from rich.markup import escape
        from rich.table import Table

        table = Table(title="Flow coverage", title_justify="left")
        table.add_column("flow", overflow="fold")
        for column in ("widgets", "transitions", "cover"):
            table.add_column(column, justify="right", no_wrap=True)
        for flow in self.flows:
            table.add_row(
                escape(_shown(flow.path)),
                f"{flow.widgets_ran}/{len(flow.widgets)}",
                f"{flow.edges_taken}/{len(flow.edges)}",
                f"{flow.percent:.0f}%",
            )
        table.add_row("TOTAL", "", "", f"{self.percent:.0f}%", style="bold")
        console.print(table)
        for flow in self.flows:
            missing = flow.untaken
            unrun = [name for name in flow.widgets if not flow.ran[name]]
            if not missing and not unrun:
                continue
            console.print(f"[bold]{escape(_shown(flow.path))}[/bold]")
            for name in unrun:
                console.print(f"  never ran:   {escape(name)}")
            for edge in missing:
                console.print(f"  never taken: {escape(edge.describe())}")

    @property
    def percent(self) -> float:
        total = sum(len(f.widgets) + len(f.edges) for f in self.flows)
        covered = sum(f.widgets_ran + f.edges_taken for f in self.flows)
        return 100.0 * covered / total if total else 100.0

    def to_json(self) -> dict[str, Any]:
        return {
            "percent": round(self.percent, 2),
            "flows": [flow.to_json() for flow in self.flows],
        }


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Coverage:
    """Accumulates what runs did, per flow file."""

    def __init__(self) -> None:
        self._flows: dict[Path, FlowCoverage] = {}
        self._by_path: dict[Path, FlowCoverage] = {}  # as given: resolving costs a syscall

    def _flow(self, path: Path, flow: Flow) -> FlowCoverage:
        found = self._by_path.get(path)
        if found is None:
            key = path.resolve()
            found = self._flows.get(key)
            if found is None:
                found = self._flows[key] = FlowCoverage.of(path, flow)
            self._by_path[path] = found
        return found

    def record(self, run: FlowRun) -> None:
        """Add the steps of ``run`` (a run started from a ``FlowFile``, which knows the file
        of the flow and of each subflow)."""
        flows = {run.flow.flow_sid: run.flow, **run.env.subflows}
        by_sid = {
            sid: self._flow(path, flows[sid]) for sid, path in run.sources.items() if sid in flows
        }
        for step in run.steps:
            target = by_sid.get(step.flow_sid)
            if target is None:
                continue
            target.ran[step.transitioned_from] += 1
            target.taken[(step.transitioned_from, step.name, step.match)] += 1
        # The widget a run stopped in ran too, though no step left it yet.
        if run.steps and run.sprint is not None and run.sprint.state.parked_on:
            last = run.steps[-1]
            target = by_sid.get(last.flow_sid)
            if target is not None and last.transitioned_to != END:
                target.ran[last.transitioned_to] += 1

    def report(self) -> Report:
        return Report(sorted(self._flows.values(), key=lambda f: str(f.path)))

    def merge(self, report: dict[str, Any]) -> None:
        """Add what another process measured (``Report.to_json()``: pytest-xdist workers)."""
        for data in report["flows"]:
            path = Path(data["file"])
            edges = [
                Edge(e["widget"], e["event"], e["next"], e["match"], e["label"])
                for e in data["transitions"]["edges"]
            ]
            counts = data["widgets"]["counts"]
            found = self._flows.setdefault(path.resolve(), FlowCoverage(path, list(counts), edges))
            found.ran.update(counts)
            found.taken.update(
                {
                    e.key: c["count"]
                    for e, c in zip(edges, data["transitions"]["edges"], strict=True)
                }
            )


# -- Cobertura XML ----------------------------------------------------------------------------


def _lines_of(path: Path, widgets: list[str]) -> dict[str, int]:
    """The line of each widget's ``"name"`` in its file, for CI annotations (1 if unknown)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    found: dict[str, int] = {}
    for name in widgets:
        pattern = re.compile(r'"name"\s*:\s*' + re.escape(json.dumps(name)))
        match = pattern.search(text)
        if match:
            found[name] = text.count("\n", 0, match.start()) + 1
    return found


def cobertura_xml(report: Report, timestamp: int = 0) -> str:
    """The report as Cobertura XML: each flow a class, widgets as lines (hits = runs) and a
    widget's transitions as its branches."""
    import xml.etree.ElementTree as ET

    def rate(part: int, whole: int) -> str:
        return f"{part / whole:.4f}" if whole else "1"

    widgets = sum(len(f.widgets) for f in report.flows)
    ran = sum(f.widgets_ran for f in report.flows)
    edges = sum(len(f.edges) for f in report.flows)
    taken = sum(f.edges_taken for f in report.flows)
    root = ET.Element(
        "coverage",
        {
            "line-rate": rate(ran, widgets),
            "branch-rate": rate(taken, edges),
            "lines-covered": str(ran),
            "lines-valid": str(widgets),
            "branches-covered": str(taken),
            "branches-valid": str(edges),
            "complexity": "0",
            "version": "flowyard",
            "timestamp": str(timestamp),
        },
    )
    ET.SubElement(ET.SubElement(root, "sources"), "source").text = "."
    classes = ET.SubElement(
        ET.SubElement(ET.SubElement(root, "packages"), "package", {"name": "flows"}), "classes"
    )
    for flow in report.flows:
        lines_of = _lines_of(flow.path, flow.widgets)
        element = ET.SubElement(
            classes,
            "class",
            {
                "name": flow.path.stem,
                "filename": str(flow.path),
                "line-rate": rate(flow.widgets_ran, len(flow.widgets)),
                "branch-rate": rate(flow.edges_taken, len(flow.edges)),
                "complexity": "0",
            },
        )
        ET.SubElement(element, "methods")
        lines = ET.SubElement(element, "lines")
        for name in flow.widgets:
            own = [e for e in flow.edges if e.widget == name]
            attributes = {"number": str(lines_of.get(name, 1)), "hits": str(flow.ran[name])}
            if own:
                hit = sum(1 for e in own if flow.taken[e.key])
                attributes["branch"] = "true"
                attributes["condition-coverage"] = (
                    f"{round(100 * hit / len(own))}% ({hit}/{len(own)})"
                )
            else:
                attributes["branch"] = "false"
            ET.SubElement(lines, "line", attributes)
    ET.indent(root)
    return '<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="unicode") + "\n"
