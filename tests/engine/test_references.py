"""The flows a definition names, and remapping them to the SIDs an import gave."""

from __future__ import annotations

from flowyard.engine.references import remap_subflows, subflow_references

OLD, NEW = "FW" + "c" * 32, "FW" + "1" * 32


def _definition() -> dict:
    return {
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {}},
            {"name": "A", "type": "run-subflow", "properties": {"flow_sid": OLD}},
            {"name": "B", "type": "run-subflow", "properties": {"flow_sid": "{{flow.data.x}}"}},
            {"name": "C", "type": "send-message", "properties": {"flow_sid": OLD}},
            "not a state",
        ]
    }


def test_references_are_literal_flow_sids_of_run_subflow_widgets() -> None:
    assert subflow_references(_definition()) == [(1, OLD)]
    assert subflow_references({"states": "nope"}) == []
    assert subflow_references(None) == []


def test_remap_changes_only_mapped_references() -> None:
    definition = _definition()
    assert remap_subflows(definition, {OLD: NEW}) == 1
    assert definition["states"][1]["properties"]["flow_sid"] == NEW
    assert definition["states"][3]["properties"]["flow_sid"] == OLD
    assert remap_subflows(definition, {"FW" + "2" * 32: NEW}) == 0
