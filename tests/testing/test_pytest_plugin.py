"""Flow test files collected by pytest through ``flowyard.testing.pytest_plugin``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pytest_collects_and_reports_flow_tests(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "ivr", tmp_path / "ivr")
    (tmp_path / "ivr" / "wrong.test.json").write_text(
        json.dumps(
            {
                "flow": "ivr.json",
                "name": "hours by 3",
                "trigger": {"call": {}},
                "steps": [{"digits": "3"}, {"expect": {"path": ["Hours"]}}],
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "flowyard.testing.pytest_plugin", "-q", "ivr"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "1 failed, 5 passed" in result.stdout
    assert "step 2 (expect)" in result.stdout
    assert "path (in this order)" in result.stdout
