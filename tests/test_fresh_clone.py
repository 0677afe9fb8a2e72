"""README's two set-up commands, exactly as written, on a fresh clone with nothing around it.

The repository at HEAD is cloned into a temporary folder (so ``../shared`` is absent there), and
the first ```sh block of README.md is run line by line through ``bash``: the first line creates
``.venv``, installs Flowyard from PyPI's packages and starts ``flowyard serve`` (on a free port,
chosen through ``FLOWYARD_PORT``, so the command runs unchanged); the second installs the dev
extras and runs the suite, with PostgreSQL (an unreachable ``FLOWYARD_TEST_POSTGRES_URL``) and
Chromium (empty ``FLOWYARD_TEST_CHROMIUM``, no browser on ``PATH``) hidden.

The second command runs on a selection appended to it, not on the whole suite: the whole suite
takes over seven minutes on two cores and would run this test inside itself
(``FLOWYARD_FRESH_CLONE_INNER`` guards that). The selection covers each kind of skip and the
copied data: server tests on both backends, browser tests, tests reading tests/data, and a test
reading a flow that stays in ../shared.

It needs network (pip installs into the fresh venv) and takes minutes: marked ``slow``;
``python3 -m pytest -m slow`` runs it alone, ``-m "not slow"`` leaves it out. CI runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
INNER = "FLOWYARD_FRESH_CLONE_INNER"
# No timing-sensitive test here: the outer suite runs beside this inner one, on two cores.
SELECTION = [
    "tests/api/test_errors.py",  # real servers, the server fixture: SQLite and PostgreSQL
    "tests/console/test_console_alerts.py",  # browser tests
    "tests/engine/test_engine_golden.py",  # tests/data: SaraAlert flow and recordings
    "tests/cli/test_validate_diff.py",  # a flow with no license found: stays in ../shared
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get(INNER)), reason="inside the fresh-clone run itself"),
]


def readme_commands() -> tuple[str, str]:
    """The two lines of README.md's first ```sh block, without their trailing comments."""
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no ```sh block"
    lines = [line.split("   #")[0].strip() for line in block.group(1).strip().splitlines()]
    assert len(lines) == 2, lines
    return lines[0], lines[1]


def _hidden_env(home: Path) -> dict[str, str]:
    """The environment of a fresh machine: no venv, no PostgreSQL, no Chromium."""
    chromium = {"chromium", "chromium-browser", "google-chrome"}
    path = []
    for i, d in enumerate(os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)):
        folder = Path(d)
        if d and any((folder / name).exists() for name in chromium):
            # The same folder without the browser: symlinks to everything else in it.
            mirror = home / f"path-{i}"
            mirror.mkdir()
            for entry in folder.iterdir():
                if entry.name not in chromium:
                    (mirror / entry.name).symlink_to(entry)
            d = str(mirror)
        path.append(d)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_XDIST_WORKER"}
        and not k.startswith(("PYTEST_", "FLOWYARD_"))
    }
    env.update(
        PATH=os.pathsep.join(path),
        XDG_DATA_HOME=str(home / "data"),
        FLOWYARD_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/test",
        FLOWYARD_TEST_CHROMIUM="",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        **{INNER: "1"},
    )
    return env


def test_readme_commands_work_on_a_fresh_clone(tmp_path: Path) -> None:
    serve_command, test_command = readme_commands()
    clone = tmp_path / "flowyard"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone.parent / "shared").exists()
    env = _hidden_env(tmp_path)
    port = free_port()

    # 1. venv, install, serve: the server answers.
    started = time.monotonic()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        ["bash", "-c", serve_command],
        cwd=clone,
        env={**env, "FLOWYARD_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 900  # pip downloads and builds everything
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "flowyard serve did not answer"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    print(f"first command: server answered after {time.monotonic() - started:.0f} s")

    # 2. dev extras and the suite (on SELECTION), in the venv the first command made.
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", f". .venv/bin/activate && {test_command} {' '.join(SELECTION)}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    out = result.stdout + result.stderr
    print(f"second command: {time.monotonic() - started:.0f} s\n{out[-4000:]}")
    assert result.returncode == 0, out[-6000:]
    summary = result.stdout.strip().splitlines()[-1]  # pip's warnings go to stderr
    assert "passed" in summary and "error" not in summary and "failed" not in summary, summary

    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skips, "nothing was hidden?"
    for line in skips:  # "SKIPPED [n] file:line: reason", the reason on the same line
        assert re.match(r"SKIPPED \[\d+\] \S+: \S", line), line
    reasons = "\n".join(skips)
    assert "PostgreSQL is not reachable" in reasons
    assert "no Chromium on PATH" in reasons
    assert "(not copied: license)" in reasons  # the flow that stays in ../shared
    assert "test_engine_golden" not in reasons  # read from tests/data
    assert shutil.which("flowyard", path=str(clone / ".venv" / "bin"))
