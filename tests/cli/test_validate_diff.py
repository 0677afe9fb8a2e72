"""``flowyard validate`` and ``flowyard diff`` on files, through the real command."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
APPOINTMENT = ROOT / "examples" / "appointment" / "appointment.json"


def flowyard(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "flowyard", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def definition() -> dict:
    return json.loads(APPOINTMENT.read_text())


def test_validate_valid_and_invalid_files(tmp_path: Path) -> None:
    broken = definition()
    del broken["states"][8]["properties"]["to"]  # Reminder
    broken["states"][1]["transitions"][0]["next"] = "Nowhere"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    result = flowyard("validate", str(APPOINTMENT), str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{bad}: #/states/8/properties/to error to is missing but it is required" in lines
    assert any(line.startswith(f"{bad}: #/states/1/transitions/0/next warning") for line in lines)
    assert f"{APPOINTMENT}: ok" in lines  # every file says how it went
    assert f"{bad}: invalid (1 error)" in lines
    assert "1 valid, 1 invalid" in result.stdout

    ok = flowyard("validate", str(APPOINTMENT), "--no-warnings")
    assert ok.returncode == 0 and "1 valid, 0 invalid" in ok.stdout


def test_validate_unreadable_and_shared_flows(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{")
    result = flowyard("validate", str(junk))
    assert result.returncode == 1 and "cannot read" in result.stdout
    flow = shared_path("flows", "Eclairemoy__pride-astrology__studio_flow.json")
    assert flowyard("validate", str(flow)).returncode == 0


def test_diff_ignores_offsets_and_key_order(tmp_path: Path) -> None:
    moved = definition()
    for state in moved["states"]:
        state["properties"]["offset"] = {"x": 999, "y": -5}
    moved["states"] = [{k: s[k] for k in reversed(list(s))} for s in moved["states"]]
    target = tmp_path / "moved.json"
    target.write_text(json.dumps(moved))
    result = flowyard("diff", str(APPOINTMENT), str(target))
    assert result.returncode == 0, result.stdout
    assert "no differences" in result.stdout


def test_diff_reports_widgets_transitions_and_properties(tmp_path: Path) -> None:
    old = definition()
    new = copy.deepcopy(old)
    by_name = {s["name"]: s for s in new["states"]}
    by_name["Confirm"]["properties"]["body"] = "All set: {{flow.variables.booking_id}}"
    by_name["Ask"]["transitions"][1]["next"] = "Bye"  # timeout now says bye
    new["states"] = [s for s in new["states"] if s["name"] != "Reminder"]
    new["states"].append(
        {
            "name": "Audit",
            "type": "set-variables",
            "properties": {"variables": [], "offset": {"x": 0, "y": 0}},
            "transitions": [{"event": "next"}],
        }
    )
    target = tmp_path / "new.json"
    target.write_text(json.dumps(new))
    result = flowyard("diff", str(APPOINTMENT), str(target))
    out = result.stdout
    assert result.returncode == 1
    assert "+ Audit (set-variables)" in out
    assert "- Reminder (send-message)" in out
    assert "~ Confirm (send-message)" in out
    assert '/body: changed "Booked! Your reference is {{flow.variables.booking_id}}."' in out
    assert 'transition timeout: changed "Reminder" -> "Bye"' in out

    as_json = json.loads(flowyard("diff", str(APPOINTMENT), str(target), "--json").stdout)
    assert as_json["summary"] == {"added": 1, "removed": 1, "changed": 2, "renamed": 0}


def test_validate_directories_skip_test_files() -> None:
    result = flowyard("validate", "examples")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert "examples/appointment/appointment.json: ok" in lines
    assert not any(".test.json" in line for line in lines)  # not flows, not even listed
    assert lines[-1] == "4 valid, 0 invalid"

    named = flowyard("validate", *sorted(str(p) for p in ROOT.glob("examples/*/*.json")))
    assert named.returncode == 0, named.stdout
    assert f"{ROOT}/examples/ivr/ivr.test.json: skipped (a flow test file)" in named.stdout
    assert named.stdout.splitlines()[-1] == "4 valid, 0 invalid, 3 skipped"


def test_validate_empty_directory(tmp_path: Path) -> None:
    result = flowyard("validate", str(tmp_path))
    assert result.returncode == 2 and "no flow definitions found" in result.stdout


def test_validate_refuses_non_numeric_timeout(tmp_path: Path) -> None:
    data = definition()
    ask = next(s for s in data["states"] if s["type"] == "send-and-wait-for-reply")
    ask["properties"]["timeout"] = "soon"
    bad = tmp_path / "soon.json"
    bad.write_text(json.dumps(data))
    result = flowyard("validate", str(bad))
    assert result.returncode == 1
    assert "timeout error timeout: 'soon' is not a whole number" in result.stdout

    ask["properties"]["timeout"] = "{{flow.variables.wait}}"  # Liquid: known at run time
    bad.write_text(json.dumps(data))
    assert flowyard("validate", str(bad)).returncode == 0


def test_diff_prints_json_values(tmp_path: Path) -> None:
    old = definition()
    new = copy.deepcopy(old)
    ask = next(s for s in new["states"] if s["name"] == "Ask")
    del ask["transitions"][1]["next"]  # the timeout now leads nowhere
    target = tmp_path / "new.json"
    target.write_text(json.dumps(new))
    out = flowyard("diff", str(APPOINTMENT), str(target)).stdout
    assert 'transition timeout: changed "Reminder" -> null' in out
    assert "None" not in out
