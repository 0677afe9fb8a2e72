"""``flowyard test``: run flow test files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer


def test(
    paths: Annotated[
        list[Path], typer.Argument(help="Test files, or directories holding *.test.json files.")
    ],
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write the results as JUnit XML here.")
    ] = None,
    keyword: Annotated[
        str | None, typer.Option("-k", help="Only tests whose name contains this text.")
    ] = None,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Report the widgets and transitions tests took.")
    ] = False,
    fail_under: Annotated[
        float | None,
        typer.Option("--coverage-fail-under", help="Exit 1 when coverage is below this %."),
    ] = None,
    coverage_json: Annotated[
        Path | None, typer.Option("--coverage-json", help="Write the coverage as JSON here.")
    ] = None,
    coverage_xml: Annotated[
        Path | None,
        typer.Option("--coverage-xml", help="Write the coverage as Cobertura XML here."),
    ] = None,
) -> None:
    """Run flow tests in-process on a virtual clock; exit 0 only when all pass (and, with
    --coverage-fail-under, when coverage is high enough)."""
    from flowyard.testing.coverage import Coverage, cobertura_xml
    from flowyard.testing.report import junit_xml, make_console, print_results
    from flowyard.testing.suite import run_paths

    console = make_console()
    measure = coverage or fail_under is not None or coverage_json or coverage_xml
    recorded = Coverage() if measure else None
    began = time.perf_counter()
    results = run_paths(paths, keyword, coverage=recorded)
    print_results(results, console, time.perf_counter() - began)
    if junit is not None:
        junit.write_text(junit_xml(results), encoding="utf-8")
    if not results:
        console.print("[red]no flow tests found[/red]")
        raise typer.Exit(2)
    too_low = False
    if recorded is not None:
        report = recorded.report()
        report.print(console)
        if coverage_json is not None:
            coverage_json.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
        if coverage_xml is not None:
            coverage_xml.write_text(cobertura_xml(report, int(time.time())), encoding="utf-8")
        if fail_under is not None and report.percent < fail_under:
            console.print(f"[red]coverage {report.percent:.1f}% is under {fail_under:g}%[/red]")
            too_low = True
    if any(not r.passed for r in results) or too_low:
        raise typer.Exit(1)
