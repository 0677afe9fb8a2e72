"""Run flow test files (``*.test.json``) as pytest tests, next to Python tests.

Enable with ``-p flowyard.testing.pytest_plugin`` or, in a ``conftest.py``,
``pytest_plugins = ["flowyard.testing.pytest_plugin"]``. Each test in a file becomes one
pytest item; a failure shows the same report as ``flowyard test``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .report import failure_text
from .suite import Case, FormatError, load_cases, run_case


class FlowTestFailed(AssertionError):
    """A flow test failed; the message is the ``flowyard test`` report."""


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(".test.json"):
        return FlowTestFile.from_parent(parent, path=file_path)
    return None


class FlowTestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            cases = load_cases(self.path)
        except FormatError as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            yield FlowTestItem.from_parent(self, name=case.name, case=case)


class FlowTestItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        result = run_case(self.case)
        if not result.passed:
            raise FlowTestFailed(failure_text(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, FlowTestFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"flow test: {self.name}"
