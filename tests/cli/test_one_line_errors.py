"""Everyday mistakes are one line on stderr and exit 1, never a traceback; --debug shows it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

FLOWYARD = [sys.executable, "-m", "flowyard"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLOWYARD, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **env},
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("FLOWYARD_MAX_BODY_BYTES", "1MB", "expected a whole number"),
        ("FLOWYARD_TIMER_INTERVAL", "soon", "expected a number"),
        ("FLOWYARD_METRICS", "maybe", "expected on or off"),
        ("FLOWYARD_RETENTION_DAYS", "-1", "expected a number of 0 or more"),
        ("FLOWYARD_PLATFORM", "pigeon", "expected local or twilio"),
    ],
)
def test_a_bad_setting_names_the_variable_and_what_it_takes(tmp_path, name, value, expected):
    line = one_line(run("info", "--database-url", f"sqlite:///{tmp_path}/x.db", **{name: value}))
    assert line.startswith(f"error: {name}={value!r}: ") and expected in line


def test_missing_files_and_directories(tmp_path):
    missing = tmp_path / "missing.json"
    assert one_line(run("diff", str(missing), str(missing))) == f"error: {missing}: no such file"
    checked = run("validate", str(missing))  # validate reports each file on stdout
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
    assert "No such file" in checked.stdout


def test_an_unreachable_server(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    env = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x" * 32}
    line = one_line(run("export", "--from", url, "--out", str(tmp_path), **env))
    assert line.startswith("error: cannot reach") and "127.0.0.1" in line
    for kind in ("sms", "call"):
        args = ["inbound", kind, "FW" + "0" * 32, "--from", "+15550001111", "--url", url]
        line = one_line(run(*args, *(["--body", "hi"] if kind == "sms" else []), **env))
        assert line.startswith("error: cannot reach") and "127.0.0.1" in line


def test_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "missing.json"
    result = run("--debug", "diff", str(missing), str(missing))
    assert result.returncode == 1 and "Traceback" in result.stderr
    after = run("diff", str(missing), str(missing), "--debug")  # anywhere on the line
    assert "Traceback" in after.stderr


def test_version_and_info(tmp_path):
    from importlib.metadata import version

    assert run("--version").stdout.strip() == f"flowyard {version('flowyard')}"
    url = f"sqlite:///{tmp_path}/here.db"
    facts = json.loads(run("info", "--json", "--database-url", url).stdout)
    assert facts["database"] == url and facts["database_exists"] is False
    secret = run("info", "--json", "--database-url", "postgresql://u:hunter2@db/flows").stdout
    assert json.loads(secret)["database"] == "postgresql://u:***@db/flows"
    default = json.loads(run("info", "--json", XDG_DATA_HOME=str(tmp_path)).stdout)
    assert default["database"] == f"sqlite:///{tmp_path}/flowyard/flowyard.db"


def test_a_port_in_use_is_said_before_anything_listens(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path}/x.db")
    line = one_line(result)
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}") and "--port" in line
    assert "listening" not in result.stdout + result.stderr.lower().replace(line.lower(), "")
