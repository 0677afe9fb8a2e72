"""Flow coverage (``flowyard test --coverage``, the pytest plugin, ``flowyard.testing``) on the
examples, whose expected coverage was worked out by hand from the flows and their tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from flowyard.cli import app
from flowyard.testing import load_flow
from flowyard.testing.coverage import Coverage, cobertura_xml
from flowyard.testing.suite import run_paths
from tests.flows import flow, go, state

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# (widgets ran, widgets, transitions taken, transitions, never taken) per example flow.
EXPECTED = {
    # The tests never make a message fail: every send's `failed` and the wait's
    # deliveryFailure stay untaken; the trigger's unwired call/parent events are not counted.
    "appointment/appointment.json": (10, 10, 15, 20, [
        "Ask --deliveryFailure--> Ended",
        "Confirm --failed--> Ended",
        "Bye --failed--> Ended",
        "Reminder --failed--> Ended",
        "Sorry --failed--> Ended",
    ]),
    # A voice flow: every gather answer is scripted, but never an unknown choice, nor a
    # caller hanging up on the agent.
    "ivr/ivr.json": (11, 11, 16, 18, [
        "Route --noMatch--> Retry_Or_Bye",
        "Agent --hangup--> Ended",
    ]),
    # The subflow: asked and answered, and timed out; never a failed delivery.
    "onboarding/ask-name.json": (4, 4, 5, 6, ["Ask --deliveryFailure--> Ended"]),
    # The parent is only started by message, and the subflow never fails.
    "onboarding/onboarding.json": (3, 4, 3, 8, [
        "Trigger --incomingRequest--> Ask_Name_Subflow",
        "Ask_Name_Subflow --failed--> Oops",
        "Welcome --failed--> Ended",
        "Oops --sent--> Ended",
        "Oops --failed--> Ended",
    ]),
}  # fmt: skip


def _examples_report():
    coverage = Coverage()
    results = run_paths([EXAMPLES], coverage=coverage)
    assert results and all(r.passed for r in results)
    return coverage.report()


def test_the_examples_cover_what_was_worked_out_by_hand():
    report = _examples_report()
    found = {
        str(f.path.resolve().relative_to(EXAMPLES)): (
            f.widgets_ran,
            len(f.widgets),
            f.edges_taken,
            len(f.edges),
            [e.describe() for e in f.untaken],
        )
        for f in report.flows
    }
    assert found == EXPECTED
    onboarding = next(f for f in report.flows if f.path.name == "onboarding.json")
    assert [name for name in onboarding.widgets if not onboarding.ran[name]] == ["Oops"]
    widgets = sum(e[1] for e in EXPECTED.values())
    edges = sum(e[3] for e in EXPECTED.values())
    covered = sum(e[0] + e[2] for e in EXPECTED.values())
    assert report.percent == 100 * covered / (widgets + edges)


def test_each_condition_of_a_split_counts_alone(tmp_path):
    conditions = [
        {"friendly_name": name, "arguments": ["{{flow.data.x}}"], "type": "equal_to", "value": v}
        for name, v in (("is one", "1"), ("is two", "2"))
    ]
    split = state(
        "Split", "split-based-on",
        [go("noMatch"), go("match", "Done", conditions=conditions[:1]),
         go("match", "Done", conditions=conditions[1:])],
        input="{{flow.data.x}}",
    )  # fmt: skip
    done = state("Done", "set-variables", [go("next")], variables=[])
    path = tmp_path / "split.json"
    path.write_text(json.dumps(flow(split, done, rest="Split")))
    coverage = Coverage()
    coverage.record(load_flow(path).start({"x": "2"}))
    (result,) = coverage.report().flows
    assert [e.describe() for e in result.untaken] == [
        "Split --noMatch--> Ended",
        "Split --match[0: is one]--> Done",
    ]
    assert result.taken[("Split", "match", 1)] == 1
    assert (result.widgets_ran, len(result.widgets), result.edges_taken, len(result.edges)) == (
        3, 3, 3, 5,
    )  # fmt: skip


def test_cobertura_xml_has_widgets_as_lines_and_transitions_as_branches():
    report = _examples_report()
    root = ET.fromstring(cobertura_xml(report, 1700000000))
    assert root.get("lines-valid") == "29" and root.get("lines-covered") == "28"
    assert root.get("branches-valid") == "52" and root.get("branches-covered") == "39"
    classes = {c.get("name"): c for c in root.iter("class")}
    assert set(classes) == {"appointment", "ivr", "ask-name", "onboarding"}
    ivr = classes["ivr"]
    text = (EXAMPLES / "ivr" / "ivr.json").read_text().splitlines()
    route = next(
        line for line in ivr.iter("line") if '"Route"' in text[int(line.get("number")) - 1]
    )
    assert route.get("branch") == "true" and route.get("condition-coverage") == "67% (2/3)"
    assert float(ivr.get("branch-rate")) == round(16 / 18, 4)


def test_the_cli_prints_the_table_writes_files_and_fails_under_a_threshold(tmp_path):
    runner = CliRunner()
    json_file, xml_file = tmp_path / "c.json", tmp_path / "c.xml"
    result = runner.invoke(
        app,
        ["test", str(EXAMPLES), "--coverage-json", str(json_file), "--coverage-xml",
         str(xml_file), "--coverage-fail-under", "80"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "Flow coverage" in result.output and "never taken: Agent --hangup--> Ended" in result.output
    )
    data = json.loads(json_file.read_text())
    assert round(data["percent"]) == 83 and len(data["flows"]) == 4
    ET.parse(xml_file)
    under = runner.invoke(app, ["test", str(EXAMPLES), "--coverage-fail-under", "90"])
    assert under.exit_code == 1 and "is under 90%" in under.output


def test_the_pytest_plugin_reports_coverage_across_xdist_workers(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    json_file = tmp_path / "c.json"
    command = [sys.executable, "-m", "pytest", "-p", "flowyard.testing.pytest_plugin", "-q",
               "-p", "no:cacheprovider", "examples", "-n", "2", "--flow-coverage",
               "--flow-coverage-json", str(json_file)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Flow coverage" in done.stdout and "13 passed" in done.stdout
    assert json.loads(json_file.read_text())["percent"] == round(_examples_report().percent, 2)
    low = subprocess.run([*command, "--flow-coverage-fail-under", "95"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120)  # fmt: skip
    assert low.returncode == 1 and "is under 95%" in low.stdout
