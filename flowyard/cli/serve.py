"""``flowyard serve``: migrate, make sure an account exists, run the HTTP server."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flowyard.cli.common import DatabaseUrl, open_database
from flowyard.config import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is imported


def prepare_metrics_dir(workers: int) -> str | None:
    """With several workers (or the variable already set), point ``PROMETHEUS_MULTIPROC_DIR``
    at an empty directory before any worker imports prometheus_client: each worker writes
    its metrics there and a scrape on any of them sums all. Values of an earlier run would
    be summed too, so a given directory is emptied of them; one made here goes at exit."""
    if not Settings.from_env().metrics:
        return None
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.db"):  # only prometheus_client's files
            old.unlink()
    elif workers > 1:
        directory = Path(tempfile.mkdtemp(prefix="flowyard-metrics-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        os.environ[MULTIPROC_ENV] = str(directory)
    else:
        return None  # one process: its own registry, no files
    return str(directory)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes (use PostgreSQL or SQLite WAL to share).")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the Studio REST API (v1 and v2) and the flow webhook.

    Applies schema migrations first. FLOWYARD_ACCOUNT_SID and FLOWYARD_AUTH_TOKEN define an
    account; with none defined and none stored, one is created and its credentials printed once.
    """
    import uvicorn

    # First: nothing may have imported prometheus_client in a process that serves yet.
    prepare_metrics_dir(workers)
    from flowyard.service.accounts import bootstrap

    settings, db = open_database(database_url)
    created = bootstrap(db, settings)
    db.dispose()
    console = Console()
    if created is not None:
        console.print("[bold]Created account[/bold] (shown once, keep the token):")
        console.print(f"  Account SID: {created.sid}")
        console.print(f"  Auth token:  {created.auth_token}")
    # Worker processes read their settings from the environment.
    os.environ["FLOWYARD_DATABASE_URL"] = settings.database_url
    console.print(f"Flowyard listening on http://{host}:{port} ({settings.database_url})")
    console.print(f"Console: http://{host}:{port}/console")
    uvicorn.run(
        "flowyard.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )
