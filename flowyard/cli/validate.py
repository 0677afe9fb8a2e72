"""``flowyard validate``: the server's definition validator, on files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape


def validate(
    files: Annotated[list[Path], typer.Argument(help="Flow definition JSON files.")],
    warnings: Annotated[
        bool, typer.Option("--warnings/--no-warnings", help="Also show warnings.")
    ] = True,
) -> None:
    """Check flow definitions as the Studio API does; exit 1 when any has an error."""
    from flowyard.engine.validate import validate_definition

    out = Console(highlight=False, soft_wrap=True)
    failed = 0
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            out.print(f"{escape(str(file))}: [red]error[/red] cannot read: {escape(str(exc))}")
            failed += 1
            continue
        if isinstance(data, dict) and isinstance(data.get("definition"), dict):
            data = data["definition"]  # an API resource, as ``flowyard export`` may write
        report = validate_definition(data)
        for item in report.errors:
            out.print(
                f"{escape(str(file))}: {escape(item['property_path'])} "
                f"[red]error[/red] {escape(item['message'])}"
            )
        if warnings:
            for item in report.warnings:
                out.print(
                    f"{escape(str(file))}: {escape(item['property_path'])} "
                    f"[yellow]warning[/yellow] {escape(item['message'])}"
                )
        if report.errors:
            failed += 1
    ok = len(files) - failed
    out.print(f"{ok} valid, {failed} invalid")
    if failed:
        raise typer.Exit(1)
