"""The flows a definition names: ``run-subflow`` widgets' ``flow_sid``. Import remaps them to
the SIDs the target gave; the server warns about those that name no flow (only it knows)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FLOW_SID = re.compile(r"^FW[0-9a-fA-F]{32}$")


def subflow_references(definition: Any) -> list[tuple[int, str]]:
    """(state index, flow SID) of each ``run-subflow`` naming a literal flow SID; Liquid and
    malformed values are the validator's business, not a reference to check."""
    states = definition.get("states") if isinstance(definition, dict) else None
    found = []
    for index, state in enumerate(states if isinstance(states, list) else []):
        if not isinstance(state, dict) or state.get("type") != "run-subflow":
            continue
        props = state.get("properties")
        sid = props.get("flow_sid") if isinstance(props, dict) else None
        if isinstance(sid, str) and FLOW_SID.match(sid):
            found.append((index, sid))
    return found


def property_path(index: int) -> str:
    return f"#/states/{index}/properties/flow_sid"


def remap_subflows(definition: Any, sids: Mapping[str, str]) -> int:
    """Replace in place each ``flow_sid`` that ``sids`` maps; returns how many changed."""
    changed = 0
    for index, sid in subflow_references(definition):
        if sid in sids and sids[sid] != sid:
            definition["states"][index]["properties"]["flow_sid"] = sids[sid]
            changed += 1
    return changed
