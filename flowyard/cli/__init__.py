"""The ``flowyard`` command line."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from typer.core import TyperOption

from flowyard.cli import (
    accounts,
    chat,
    diff,
    flowtest,
    inbound,
    info,
    serve,
    transfer,
    validate,
)
from flowyard.cli.errors import one_line

_display_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx: typer.Context) -> str | None:
    # Typer's help labels every option with its Python type, so flags read "--voice <bool>"
    # as if they took a value; a flag (or a --x/--no-x pair) shows no type at all.
    if self.is_flag and not self.count:
        return None
    return _display_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

app = typer.Typer(
    name="flowyard",
    help="Run Twilio Studio flows anywhere: a Studio REST API v1/v2 server and flow engine.",
    no_args_is_help=True,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"flowyard {version('flowyard')}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    _debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error, not one line.")
    ] = False,
) -> None:
    """Run Twilio Studio flows anywhere: a Studio REST API v1/v2 server and flow engine."""


app.command("serve")(serve.serve)
app.add_typer(accounts.accounts_app, name="accounts")
app.add_typer(accounts.keys_app, name="keys")
app.command("chat")(chat.chat)
app.command("test")(flowtest.test)
app.command("validate")(validate.validate)
app.command("diff")(diff.diff)
app.command("import")(transfer.import_flows)
app.command("export")(transfer.export_flows)
app.command("info")(info.info)
app.add_typer(inbound.inbound_app, name="inbound")


def main() -> None:
    """Everyday mistakes (a missing file, a bad setting, a server that does not answer) are one
    line on stderr and exit 1; ``--debug`` (or FLOWYARD_DEBUG=1) shows the traceback."""
    debug = "--debug" in sys.argv[1:] or bool(os.environ.get("FLOWYARD_DEBUG"))
    # Accepted anywhere on the line, not only before the command.
    sys.argv[1:] = [arg for arg in sys.argv[1:] if arg != "--debug"]
    try:
        app()
    except Exception as exc:
        message = one_line(exc)
        if debug or message is None:
            raise
        typer.secho(f"error: {message}", fg="red", err=True)
        sys.exit(1)
