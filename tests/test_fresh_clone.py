"""README's two set-up commands, exactly as written, on a fresh clone with nothing around it.

The repository at HEAD is cloned into a temporary folder (so ``../shared`` is absent there), and
the first ```sh block of README.md is run line by line through ``bash``: the first line creates
``.venv``, installs Flowyard from PyPI's packages and starts ``flowyard serve`` (on a free port,
chosen through ``FLOWYARD_PORT``, so the command runs unchanged); the second installs the dev
extras and runs the suite, with PostgreSQL (an unreachable ``FLOWYARD_TEST_POSTGRES_URL``) and
Chromium (empty ``FLOWYARD_TEST_CHROMIUM``, no browser on ``PATH``) hidden.

Two tests share that set-up. The default one runs the second command on a selection appended to
it, covering each kind of skip and the copied data (server tests on both backends, browser tests,
tests reading tests/data, a test reading a flow that stays in ../shared): about two minutes. The
one marked ``slow`` runs the second command exactly as written, on the whole suite: it takes
several minutes more, so the default run leaves it out (``addopts`` in pyproject.toml) and
``python3 -m pytest -m slow`` runs it. Both need network (pip installs into the fresh venv).

Inside the clone's run ``FLOWYARD_FRESH_CLONE_INNER`` is set, and tests/conftest.py deselects this
file and tests/test_package.py there (no clone inside the clone, no second wheel build). Every
skip of the inner run must give one of ``ALLOWED_SKIPS`` as its reason, on one line.
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

from tests.conftest import FRESH_CLONE_INNER as INNER
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
# No timing-sensitive test here: the outer suite runs beside this inner one, on two cores.
SELECTION = [
    "tests/api/test_errors.py",  # real servers, the server fixture: SQLite and PostgreSQL
    "tests/console/test_console_alerts.py",  # browser tests
    "tests/engine/test_engine_golden.py",  # tests/data: SaraAlert flow and recordings
    "tests/cli/test_validate_diff.py",  # a flow with no license found: stays in ../shared
]

# What may be missing on a fresh machine: PostgreSQL, Chromium, ../shared (the flows not copied).
ALLOWED_SKIPS = ("PostgreSQL is not reachable", "no Chromium on PATH", "(not copied: license)")


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
        PYTEST_DEBUG_TEMPROOT=str(home),  # not the outer run's /tmp/pytest-of-<user>/
        FLOWYARD_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/test",
        FLOWYARD_TEST_CHROMIUM="",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        **{INNER: "1"},
    )
    return env


@pytest.fixture
def fresh_clone(tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    """A clone with nothing around it where README's first command made .venv and served:
    (the clone, the fresh machine's environment, README's second command)."""
    serve_command, test_command = readme_commands()
    clone = tmp_path / "flowyard"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone.parent / "shared").exists()
    env = _hidden_env(tmp_path)
    port = free_port()

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
    assert shutil.which("flowyard", path=str(clone / ".venv" / "bin"))
    return clone, env, test_command


def run_suite(clone: Path, env: dict[str, str], command: str, timeout: float) -> list[str]:
    """Run the test command in the clone's venv; assert it passed with reasoned skips only.

    Returns the SKIPPED lines of pytest's ``-ra`` summary."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", f". .venv/bin/activate && {command}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = result.stdout + result.stderr
    print(f"second command: {time.monotonic() - started:.0f} s\n{out[-4000:]}")
    failures = out.find("= FAILURES =")  # the first tracebacks, not only the tail
    assert result.returncode == 0, (out[failures : failures + 5000] if failures >= 0 else "") + (
        out[-3000:]
    )
    summary = result.stdout.strip().splitlines()[-1]  # pip's warnings go to stderr
    assert "passed" in summary and "error" not in summary and "failed" not in summary, summary

    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skips, "nothing was hidden?"
    for line in skips:  # "SKIPPED [n] file:line: reason", the reason on the same line
        assert re.match(r"SKIPPED \[\d+\] \S+: \S", line), line
        assert any(allowed in line for allowed in ALLOWED_SKIPS), line
    counts = {allowed: 0 for allowed in ALLOWED_SKIPS}
    for line in skips:
        allowed = next(allowed for allowed in ALLOWED_SKIPS if allowed in line)
        counts[allowed] += int(re.match(r"SKIPPED \[(\d+)\]", line).group(1))
    print(f"{summary}\nskips by reason: {counts}")
    assert all(counts.values()), counts
    return skips


def test_readme_commands_work_on_a_fresh_clone(
    fresh_clone: tuple[Path, dict[str, str], str],
) -> None:
    clone, env, test_command = fresh_clone
    skips = run_suite(clone, env, f"{test_command} {' '.join(SELECTION)}", timeout=1200)
    assert not any("test_engine_golden" in line for line in skips)  # read from tests/data


@pytest.mark.slow
def test_readme_commands_pass_the_whole_suite_on_a_fresh_clone(
    fresh_clone: tuple[Path, dict[str, str], str],
) -> None:
    clone, env, test_command = fresh_clone
    run_suite(clone, env, test_command, timeout=3600)
