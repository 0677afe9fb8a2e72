"""The ``flowyard`` command line."""

from __future__ import annotations

import typer

from flowyard.cli import accounts, serve

app = typer.Typer(
    name="flowyard",
    help="Run Twilio Studio flows anywhere: a Studio REST API v1/v2 server and flow engine.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.add_typer(accounts.accounts_app, name="accounts")
app.add_typer(accounts.keys_app, name="keys")


def main() -> None:
    app()
