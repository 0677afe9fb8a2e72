"""``flowyard diff``: what changed between two flow definitions, widget by widget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from flowyard.cli.transfer import AccountSid, AuthToken, studio_client


def _load(spec: str, server: str | None, sid: str | None, token: str | None) -> Any:
    """A file, or ``FW…@N`` (revision N of a stored flow) from ``--server``."""
    if "@" in spec and spec.startswith("FW") and not Path(spec).exists():
        flow_sid, revision = spec.split("@", 1)
        if not server:
            raise typer.BadParameter(f"{spec}: a stored revision needs --server URL")
        client = studio_client(server, sid, token)
        return client.studio.v2.flows(flow_sid).revisions(revision).fetch().definition
    data = json.loads(Path(spec).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("definition"), dict):
        return data["definition"]
    return data


def _value(value: Any) -> str:
    # JSON, not Python: a missing value reads ``null``, a string keeps its quotes.
    return escape(json.dumps(value, ensure_ascii=False))


def diff(
    old: Annotated[str, typer.Argument(help="Old definition: a file, or FLOW_SID@REVISION.")],
    new: Annotated[str, typer.Argument(help="New definition: a file, or FLOW_SID@REVISION.")],
    server: Annotated[
        str | None, typer.Option("--server", help="Flowyard or Twilio URL for FLOW_SID@N.")
    ] = None,
    account_sid: AccountSid = None,
    auth_token: AuthToken = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Show added, removed, renamed and changed widgets, ignoring offsets and key order
    (exit 1 when the definitions differ, as diff does)."""
    from flowyard.engine.diff import diff_definitions

    result = diff_definitions(
        _load(old, server, account_sid, auth_token), _load(new, server, account_sid, auth_token)
    )
    out = Console(highlight=False, soft_wrap=True)
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
    else:
        marks = {"added": "[green]+[/green]", "removed": "[red]-[/red]"}
        marks |= {"changed": "[yellow]~[/yellow]", "renamed": "[cyan]>[/cyan]"}
        for widget in result.widgets:
            title = f"{marks[widget.status]} {escape(widget.name)} ({widget.type})"
            if widget.old_name:
                title += f" renamed from {escape(widget.old_name)}"
            if widget.old_type:
                title += f" type was {widget.old_type}"
            out.print(title)
            for change in (*widget.properties, *widget.other):
                out.print(
                    f"    {escape(change.path)}: {change.kind} "
                    f"{_value(change.old)} -> {_value(change.new)}"
                )
            for t in widget.transitions:
                label = t.event if t.event != "match" else f"match #{t.index + 1}"
                out.print(
                    f"    transition {escape(label)}: {t.kind} "
                    f"{_value(t.old_next)} -> {_value(t.new_next)}"
                )
                for change in t.changes:
                    out.print(
                        f"      {escape(change.path)}: {_value(change.old)} -> {_value(change.new)}"
                    )
        for change in result.top_level:
            out.print(
                f"~ {escape(change.path)}: {change.kind} {_value(change.old)} -> "
                f"{_value(change.new)}"
            )
        if result.is_empty:
            out.print("no differences (offsets and key order ignored)")
    if not result.is_empty:
        raise typer.Exit(1)
