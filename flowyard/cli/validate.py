"""``flowyard validate``: the server's definition validator, on files and directories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

TEST_SUFFIX = ".test.json"


def is_test_file(path: Path) -> bool:
    """Flow test files sit next to flows (``examples/*/*.json`` matches both); not flows."""
    return path.name.endswith(TEST_SUFFIX)


def collect(paths: list[Path]) -> list[Path]:
    """Files as given; ``*.json`` under directories (as ``flowyard test`` takes directories)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*.json")) if not is_test_file(p))
        else:
            files.append(path)
    return files


def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Flow definition JSON files, or directories holding them."),
    ],
    warnings: Annotated[
        bool, typer.Option("--warnings/--no-warnings", help="Also show warnings.")
    ] = True,
) -> None:
    """Check flow definitions as the Studio API does, one result line per file; flow test
    files (*.test.json) are skipped. Exit 1 when any has an error."""
    from flowyard.engine.validate import validate_definition

    out = Console(highlight=False, soft_wrap=True)
    failed = ok = skipped = 0
    for file in collect(files):
        name = escape(str(file))
        if is_test_file(file):
            out.print(f"{name}: [dim]skipped (a flow test file)[/dim]")
            skipped += 1
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            out.print(f"{name}: [red]error[/red] cannot read: {escape(str(exc))}")
            failed += 1
            continue
        if isinstance(data, dict) and isinstance(data.get("definition"), dict):
            data = data["definition"]  # an API resource, as ``flowyard export`` may write
        report = validate_definition(data)
        for item in report.errors:
            out.print(
                f"{name}: {escape(item['property_path'])} "
                f"[red]error[/red] {escape(item['message'])}"
            )
        shown = report.warnings if warnings else []
        for item in shown:
            out.print(
                f"{name}: {escape(item['property_path'])} "
                f"[yellow]warning[/yellow] {escape(item['message'])}"
            )
        if report.errors:
            failed += 1
            out.print(f"{name}: [red]invalid[/red] ({_count(report.errors, 'error')})")
        else:
            ok += 1
            extra = f" ({_count(shown, 'warning')})" if shown else ""
            out.print(f"{name}: [green]ok[/green]{extra}")
    if not ok + failed + skipped:
        out.print("[red]no flow definitions found[/red]")
        raise typer.Exit(2)
    summary = f"{ok} valid, {failed} invalid"
    out.print(summary + (f", {skipped} skipped" if skipped else ""))
    if failed:
        raise typer.Exit(1)


def _count(items: list, what: str) -> str:
    return f"{len(items)} {what}{'s' if len(items) != 1 else ''}"
