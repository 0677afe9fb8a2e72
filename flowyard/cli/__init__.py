"""The ``flowyard`` command line."""

from __future__ import annotations

import typer

from flowyard.cli import accounts, chat, diff, flowtest, serve, transfer, validate

app = typer.Typer(
    name="flowyard",
    help="Run Twilio Studio flows anywhere: a Studio REST API v1/v2 server and flow engine.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.add_typer(accounts.accounts_app, name="accounts")
app.add_typer(accounts.keys_app, name="keys")
app.command("chat")(chat.chat)
app.command("test")(flowtest.test)
app.command("validate")(validate.validate)
app.command("diff")(diff.diff)
app.command("import")(transfer.import_flows)
app.command("export")(transfer.export_flows)


def main() -> None:
    app()
