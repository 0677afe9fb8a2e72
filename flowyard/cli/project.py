"""Flow files imported together, as a project: which files a path names, the flow SIDs each
file stood for where it came from, and an order that creates subflows before their parents,
so a parent's ``run-subflow`` can be remapped to the SID its subflow was just given."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowyard.engine.references import subflow_references

TEST_SUFFIX = ".test.json"


@dataclass(eq=False)
class FlowFile:
    path: Path
    definition: dict[str, Any]
    name: str
    # The SIDs this flow had elsewhere: an export's ``sid``, a test file's ``subflows`` key.
    aliases: set[str] = field(default_factory=set)


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; a directory gives its flow files (``*.json`` below it, not tests)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if not p.name.endswith(TEST_SUFFIX))
            files.extend(found)
        else:
            files.append(path)
    return files


def read_flow(path: Path) -> FlowFile:
    """A definition file, or a resource ``export`` wrote (name, sid and definition)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("definition"), dict):
        flow = FlowFile(path, data["definition"], data.get("friendly_name") or _stem(path))
        if isinstance(data.get("sid"), str):
            flow.aliases.add(data["sid"])
        return flow
    if not isinstance(data, dict):
        raise ValueError("not a flow definition (a JSON object)")
    return FlowFile(path, data, _stem(path))


def _stem(path: Path) -> str:
    # ``export`` names files <slug>.<FW…>.json: the name is the slug.
    return re.sub(r"\.FW[0-9a-fA-F]{32}$", "", path.stem)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "flow"


def test_aliases(flows: list[FlowFile]) -> None:
    """The placeholder SIDs ``*.test.json`` files next to the flows give their subflows
    (``"subflows": {"FWcc…": "ask-name.json"}``): the same mapping ``flowyard test`` uses."""
    by_path = {flow.path.resolve(): flow for flow in flows}
    for folder in {flow.path.parent for flow in flows}:
        for test in folder.glob("*" + TEST_SUFFIX):
            try:
                subflows = json.loads(test.read_text(encoding="utf-8")).get("subflows") or {}
            except (OSError, ValueError, AttributeError):
                continue  # a test file is not this command's business when it is broken
            for sid, file in subflows.items():
                target = by_path.get((folder / str(file)).resolve())
                if target is not None:
                    target.aliases.add(sid)


def in_order(flows: list[FlowFile]) -> list[FlowFile]:
    """Subflows before the flows that run them (a cycle keeps the given order)."""
    owner = {alias: flow for flow in flows for alias in flow.aliases}
    ordered: list[FlowFile] = []
    visiting: set[int] = set()

    def visit(flow: FlowFile) -> None:
        if flow in ordered or id(flow) in visiting:
            return
        visiting.add(id(flow))
        for _index, sid in subflow_references(flow.definition):
            if sid in owner:
                visit(owner[sid])
        ordered.append(flow)

    for flow in flows:
        visit(flow)
    return ordered
