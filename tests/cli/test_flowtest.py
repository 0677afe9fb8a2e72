"""``flowyard test``: flow test files run through the real command, passing and failing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def flowyard(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "flowyard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_examples_pass() -> None:
    result = flowyard("test", "examples/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "13 passed, 0 failed" in result.stdout
    assert "PASS press 1 for opening hours" in result.stdout
    only = flowyard("test", "examples/", "-k", "HANG-UP")
    assert "1 passed, 0 failed" in only.stdout and "a hang-up ends" in only.stdout


def test_failures_name_the_step_with_expected_and_actual(tmp_path: Path) -> None:
    flow = os.path.relpath(EXAMPLES / "appointment" / "appointment.json", tmp_path)
    mocks = {"Fetch_Slot": [{"status": 200, "body": {"slot": "Mon"}}]}
    write(
        tmp_path / "wrong.test.json",
        {
            "flow": flow,
            "mocks": mocks,
            "tests": [
                {
                    "name": "wrong body",
                    "trigger": {"message": "hi"},
                    "steps": [{"expect": {"waiting_at": "Ask"}}, {"expect": {"sent": "Hello"}}],
                },
                {
                    "name": "wrong path",
                    "trigger": {"message": "hi"},
                    "steps": [{"reply": "no"}, {"expect": {"path": ["Book"]}}],
                },
                {
                    "name": "reply after the end",
                    "trigger": {"message": "hi"},
                    "steps": [{"reply": "no"}, {"reply": "again"}],
                },
                {
                    "name": "unmocked booking",
                    "trigger": {"message": "hi"},
                    "steps": [{"reply": "yes"}],
                },
                {"name": "fine", "trigger": {"message": "hi"}, "steps": [{"reply": "no"}]},
            ],
        },
    )
    junit = tmp_path / "junit.xml"
    result = flowyard("test", str(tmp_path), "--junit", str(junit))
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 passed, 4 failed" in out
    assert "FAIL wrong body" in out
    assert 'step 2 (expect): {"expect": {"sent": "Hello"}}' in out
    assert "sent[0].body" in out
    assert 'expected: "Hello"' in out
    assert 'actual:   "Hi there! The next slot is Mon. Reply YES to book it."' in out
    assert "path (in this order)" in out
    assert 'actual:   ["Trigger", "Fetch_Slot", "Ask", "Check_Answer", "Bye"]' in out
    assert "step 2 (reply)" in out and "ended (FLOW_END)" in out
    assert "Book (no mock, network not allowed)" in out
    assert "PASS fine" in out

    suites = ET.parse(junit).getroot()
    assert suites.get("tests") == "5" and suites.get("failures") == "4"
    cases = {c.get("name"): c for c in suites.iter("testcase")}
    assert cases["fine"].find("failure") is None
    failure = cases["wrong body"].find("failure")
    assert failure is not None
    assert failure.get("message").startswith("step 2 (expect)")
    assert 'expected: "Hello"' in failure.text


def test_voice_failure_reports_what_was_heard(tmp_path: Path) -> None:
    flow = os.path.relpath(EXAMPLES / "ivr" / "ivr.json", tmp_path)
    write(
        tmp_path / "ivr.test.json",
        {
            "flow": flow,
            "trigger": {"call": {}},
            "steps": [{"digits": "2"}, {"expect": {"heard": [{"contains": "open"}]}}],
        },
    )
    result = flowyard("test", str(tmp_path / "ivr.test.json"))
    assert result.returncode == 1
    assert "heard[0]" in result.stdout
    assert '"Thanks for calling Flowyard Bikes."' in result.stdout


def test_broken_files_and_empty_directories(tmp_path: Path) -> None:
    (tmp_path / "bad.test.json").write_text("{not json")
    write(tmp_path / "nosteps.test.json", {"flow": "x.json", "steps": [{"dance": 1}]})
    result = flowyard("test", str(tmp_path))
    assert result.returncode == 1
    assert "cannot read" in result.stdout
    assert "step 1 must be one of reply, digits" in result.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    result = flowyard("test", str(empty))
    assert result.returncode == 2
    assert "no flow tests found" in result.stdout


def test_missing_flow_file_fails_at_the_trigger(tmp_path: Path) -> None:
    write(tmp_path / "t.test.json", {"flow": "nowhere.json", "trigger": {"rest": {}}})
    result = flowyard("test", str(tmp_path))
    assert result.returncode == 1
    assert "trigger (trigger)" in result.stdout
    assert "nowhere.json" in result.stdout


def test_mocks_naming_no_widget_fail_the_test(tmp_path: Path) -> None:
    test = write(
        tmp_path / "typo.test.json",
        {
            "flow": str(EXAMPLES / "appointment" / "appointment.json"),
            "trigger": {"message": "hi"},
            "mocks": {"Fetch_Slto": {"status": 200, "body": {"slot": "now"}}},
        },
    )
    result = flowyard("test", str(test))
    assert result.returncode == 1
    assert (
        "mocks name 'Fetch_Slto', which is no widget of appointment.json; did you mean Fetch_Slot?"
    ) in result.stdout


def test_output_into_a_pipe_keeps_long_lines_whole(tmp_path: Path) -> None:
    long_name = "a test whose name is long enough to pass eighty columns " * 3
    test = write(
        tmp_path / "long.test.json",
        {
            "name": long_name.strip(),
            "flow": str(EXAMPLES / "appointment" / "appointment.json"),
            "trigger": {"message": "hi"},  # no mocks: fails at the trigger
        },
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # as in a CI log
    result = subprocess.run(
        [sys.executable, "-m", "flowyard", "test", str(test)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
    )
    lines = result.stdout.splitlines()
    assert f"FAIL {long_name.strip()}" in lines[1]
    engine = "engine: http_failed at Fetch_Slot: Fetch_Slot: no mock for this http call"
    assert any(engine in line and line.endswith("(network not allowed)") for line in lines)
