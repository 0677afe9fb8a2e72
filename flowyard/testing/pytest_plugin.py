"""Run flow test files (``*.test.json``) as pytest tests, next to Python tests.

Enable with ``-p flowyard.testing.pytest_plugin`` or, in a ``conftest.py``,
``pytest_plugins = ["flowyard.testing.pytest_plugin"]``. Each test in a file becomes one
pytest item; a failure shows the same report as ``flowyard test``.

``--flow-coverage`` reports which widgets and transitions the flow tests took (with
pytest-xdist too: workers send theirs to the controller); ``--flow-coverage-fail-under``,
``--flow-coverage-json`` and ``--flow-coverage-xml`` as ``flowyard test`` has them.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .coverage import Coverage, cobertura_xml
from .report import failure_text
from .suite import Case, FormatError, load_cases, run_case

COVERAGE = pytest.StashKey[Coverage]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowyard", "flow tests")
    group.addoption("--flow-coverage", action="store_true", help="Report flow coverage.")
    group.addoption("--flow-coverage-fail-under", type=float, metavar="PERCENT",
                    help="Fail when flow coverage is below this.")  # fmt: skip
    group.addoption("--flow-coverage-json", metavar="FILE", help="Write flow coverage JSON.")
    group.addoption("--flow-coverage-xml", metavar="FILE", help="Write Cobertura XML.")


def pytest_configure(config: pytest.Config) -> None:
    options = config.option
    if (
        options.flow_coverage
        or options.flow_coverage_fail_under is not None
        or options.flow_coverage_json
        or options.flow_coverage_xml
    ):
        config.stash[COVERAGE] = Coverage()


def pytest_testnodedown(node: Any, error: Any) -> None:
    # pytest-xdist: a worker finished; add what it measured.
    measured = getattr(node, "workeroutput", {}).get("flowyard_coverage")
    if measured is not None and COVERAGE in node.config.stash:
        node.config.stash[COVERAGE].merge(json.loads(measured))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if COVERAGE not in config.stash:
        return
    report = config.stash[COVERAGE].report()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["flowyard_coverage"] = json.dumps(report.to_json())
        return
    options = config.option
    if options.flow_coverage_json:
        Path(options.flow_coverage_json).write_text(json.dumps(report.to_json(), indent=2))
    if options.flow_coverage_xml:
        Path(options.flow_coverage_xml).write_text(cobertura_xml(report, int(time.time())))
    limit = options.flow_coverage_fail_under
    if limit is not None and report.percent < limit and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if COVERAGE not in config.stash or hasattr(config, "workeroutput"):
        return
    from rich.console import Console

    report = config.stash[COVERAGE].report()
    buffer = io.StringIO()
    width = getattr(getattr(terminalreporter, "_tw", None), "fullwidth", 100)
    report.print(Console(file=buffer, highlight=False, width=width, color_system=None))
    terminalreporter.write(buffer.getvalue())
    limit = config.option.flow_coverage_fail_under
    if limit is not None and report.percent < limit:
        terminalreporter.write_line(f"flow coverage {report.percent:.1f}% is under {limit:g}%")


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
        coverage = self.config.stash.get(COVERAGE, None)
        if coverage is not None and result.run is not None:
            coverage.record(result.run)
        if not result.passed:
            raise FlowTestFailed(failure_text(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, FlowTestFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"flow test: {self.name}"
