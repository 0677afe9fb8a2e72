"""``flowyard accounts …`` and ``flowyard keys …``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flowyard.cli.common import DatabaseUrl, open_database

accounts_app = typer.Typer(
    help="Create and list accounts; rotate an auth token.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="Create, list and revoke API keys (SK… SID + secret) of an account.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@accounts_app.command("create")
def create_account(
    friendly_name: Annotated[
        str, typer.Option(help="A name for the account.")
    ] = "Flowyard account",
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account and print its SID and auth token."""
    _, db = open_database(database_url)
    from flowyard.store import accounts as store

    with db.begin() as conn:
        account = store.create_account(conn, friendly_name)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "sid": account.sid,
                    "auth_token": account.auth_token,
                    "friendly_name": account.friendly_name,
                }
            )
        )
    else:
        typer.echo(f"Account SID: {account.sid}\nAuth token:  {account.auth_token}")


@accounts_app.command("list")
def list_accounts(as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """List accounts (SIDs and names; tokens are not shown)."""
    _, db = open_database(database_url, create=False)
    from flowyard.store import accounts as store

    with db.connect() as conn:
        rows = store.list_accounts(conn)
    if as_json:
        typer.echo(json.dumps([{"sid": a.sid, "friendly_name": a.friendly_name} for a in rows]))
        return
    table = Table("Account SID", "Friendly name")
    for account in rows:
        table.add_row(account.sid, account.friendly_name)
    Console().print(table)


@accounts_app.command("rotate-token")
def rotate_token(
    account: Annotated[str, typer.Argument(metavar="AC…", help="The SID of the account.")],
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Give the account a new auth token, printed once; the old one stops working.

    Every server process sharing the database refuses the old token within seconds.
    """
    _, db = open_database(database_url, create=False)
    from flowyard.store import accounts as store

    with db.begin() as conn:
        token = store.rotate_token(conn, account)
    if token is None:
        typer.echo(f"No account {account}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps({"sid": account, "auth_token": token}))
    else:
        typer.echo(f"Account SID: {account}\nAuth token:  {token}")


@keys_app.command("create")
def create_key(
    account: Annotated[str, typer.Option("--account", help="The AC… SID the key belongs to.")],
    friendly_name: Annotated[str, typer.Option(help="A name for the key.")] = "",
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key; the secret is printed once and only its hash is stored."""
    _, db = open_database(database_url, create=False)
    from flowyard.store import accounts as store

    with db.begin() as conn:
        if store.get_account(conn, account) is None:
            typer.echo(f"No account {account}", err=True)
            raise typer.Exit(1)
        sid, secret = store.create_api_key(conn, account, friendly_name)
    if as_json:
        typer.echo(json.dumps({"sid": sid, "secret": secret, "account_sid": account}))
    else:
        typer.echo(f"API key SID: {sid}\nSecret:      {secret}")


@keys_app.command("list")
def list_keys(
    account: Annotated[str, typer.Option("--account", help="The AC… SID whose keys to list.")],
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List an account's API keys (SIDs, names, creation dates; secrets are never stored)."""
    _, db = open_database(database_url, create=False)
    from flowyard.store import accounts as store

    with db.connect() as conn:
        if store.get_account(conn, account) is None:
            typer.echo(f"No account {account}", err=True)
            raise typer.Exit(1)
        keys = store.list_api_keys(conn, account)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "sid": key.sid,
                        "account_sid": key.account_sid,
                        "friendly_name": key.friendly_name,
                        "date_created": key.date_created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                    for key in keys
                ]
            )
        )
        return
    table = Table("API key SID", "Friendly name", "Created (UTC)")
    for key in keys:
        table.add_row(key.sid, key.friendly_name, key.date_created.strftime("%Y-%m-%d %H:%M:%S"))
    Console().print(table)


@keys_app.command("revoke")
def revoke_key(
    key: Annotated[str, typer.Argument(metavar="SK…", help="The SID of the key.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Delete an API key: REST calls and console sessions using it stop within seconds."""
    _, db = open_database(database_url, create=False)
    from flowyard.store import accounts as store

    with db.begin() as conn:
        revoked = store.delete_api_key(conn, key)
    if not revoked:
        typer.echo(f"No API key {key}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked {key}")
