"""The built wheel, installed for real (not editable), runs on its own.

The wheel is built from a copy of the sources, installed with ``--no-deps --no-index`` into a
venv that borrows this machine's packages for the dependencies (so no network is needed for
them), and run from outside the repository with PYTHONPATH unset: whatever it serves comes
out of the wheel. Building needs the build backend from the package index: setuptools>=77 (the
SPDX `license` string of PEP 639), newer than many machines' own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
DATA_DIRS = ("flowyard/console/static", "flowyard/store/migrations")


def _run(*args: str | Path, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the wheel, the venv's bin directory, an environment without PYTHONPATH)."""
    base = tmp_path_factory.mktemp("package")
    source = base / "src"
    # A copy: building writes build/ and *.egg-info next to the sources.
    shutil.copytree(
        ROOT / "flowyard", source / "flowyard", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["XDG_DATA_HOME"] = str(base / "data")  # never the user's own flowyard.db
    dist = base / "dist"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        dist,
        source,
        env=env,
        cwd=base,
    )
    (wheel,) = dist.glob("flowyard-*.whl")
    venv = base / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", venv, env=env, cwd=base)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = [bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    _run(*pip, wheel, env=env, cwd=base)
    return wheel, bin_dir, env


def test_wheel_holds_console_assets_and_migrations(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder in DATA_DIRS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert any(name.endswith(".js") for name in expected)
    assert any("/versions/" in name for name in expected)
    assert expected - names == set()


def test_installed_wheel_serves_console_and_migrates(
    installed: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    _, bin_dir, env = installed
    flowyard = bin_dir / "flowyard"
    where = _run(
        bin_dir / "python", "-c", "import flowyard; print(flowyard.__file__)", env=env, cwd=tmp_path
    )
    assert Path(where.strip()).is_relative_to(bin_dir.parent), where  # not the editable copy
    assert re.fullmatch(r"flowyard \S+\n", _run(flowyard, "--version", env=env, cwd=tmp_path))

    database = f"sqlite:///{tmp_path / 'package.db'}"
    account = json.loads(
        _run(
            flowyard,
            "accounts",
            "create",
            "--json",
            "--database-url",
            database,
            env=env,
            cwd=tmp_path,
        )
    )
    port = free_port()
    server = subprocess.Popen(
        [flowyard, "serve", "--port", str(port), "--database-url", database],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never answered /healthz"
            time.sleep(0.2)
        login = httpx.get(f"{base}/console/login", timeout=10)
        assert login.status_code == 200
        assets = re.findall(r"/console/static/[\w./-]+\.(?:js|css)", login.text)
        assert assets, login.text[:500]
        # The JSON tab's vendored CodeMirror bundle (a subfolder: its own package-data line).
        assert "/console/static/vendor/codemirror.js" in assets, assets
        for asset in assets:
            fetched = httpx.get(f"{base}{asset.split('?')[0]}", timeout=10)
            assert fetched.status_code == 200 and fetched.content, asset
        flows = httpx.get(
            f"{base}/v2/Flows", auth=(account["sid"], account["auth_token"]), timeout=10
        )
        assert flows.status_code == 200, flows.text  # the tables exist: migrations ran
        assert flows.json()["flows"] == []
    finally:
        server.terminate()
        server.wait(20)
