"""``flowyard test``: run flow test files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


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
) -> None:
    """Run flow tests in-process on a virtual clock; exit 0 only when all pass."""
    from flowyard.testing.report import junit_xml, print_results
    from flowyard.testing.suite import run_paths

    console = Console(highlight=False)
    began = time.perf_counter()
    results = run_paths(paths, keyword)
    print_results(results, console, time.perf_counter() - began)
    if junit is not None:
        junit.write_text(junit_xml(results), encoding="utf-8")
    if not results:
        console.print("[red]no flow tests found[/red]")
        raise typer.Exit(2)
    if any(not r.passed for r in results):
        raise typer.Exit(1)
