"""``flowyard serve``: migrate, make sure an account exists, run the HTTP server."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flowyard import logs
from flowyard.cli import workers as worker_processes
from flowyard.cli.common import DatabaseUrl, masked_url, open_database
from flowyard.cli.errors import UserError
from flowyard.config import Settings

log = logging.getLogger("flowyard.serve")
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
    host: Annotated[
        str, typer.Option(envvar="FLOWYARD_HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="FLOWYARD_PORT", help="TCP port to listen on.")
    ] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes (use PostgreSQL or SQLite WAL to share).")
    ] = 1,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="text, or json (a JSON object per line). Default: FLOWYARD_LOG_FORMAT, else text.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            help=f"Least level logged, Flowyard's and uvicorn's: {', '.join(logs.LEVELS)}. "
            "Default: FLOWYARD_LOG_LEVEL, else info.",
            show_default=False,
        ),
    ] = None,
    access_log: Annotated[
        bool | None,
        typer.Option(
            "--access-log/--no-access-log",
            help="A line per request. Default: FLOWYARD_ACCESS_LOG, else on.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the Studio REST API (v1 and v2) and the flow webhook.

    Applies schema migrations first. FLOWYARD_ACCOUNT_SID and FLOWYARD_AUTH_TOKEN define an
    account; with none defined and none stored, one is created and its credentials printed once.
    Logs go to standard error; standard output has only a created account's credentials.
    """
    import uvicorn

    # First: nothing may have imported prometheus_client in a process that serves yet.
    prepare_metrics_dir(workers)
    from flowyard.service.accounts import bootstrap

    wanted = Settings.from_env(log_format=log_format, log_level=log_level, access_log=access_log)
    try:
        level, fmt = logs.check(wanted.log_level, wanted.log_format)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    logs.configure(level, fmt)
    check_port(host, port)  # before anything says it is listening
    settings, db = open_database(database_url)
    created = bootstrap(db, settings)
    db.dispose()
    if created is not None:
        console = Console()
        console.print("[bold]Created account[/bold] (shown once, keep the token):")
        console.print(f"  Account SID: {created.sid}")
        console.print(f"  Auth token:  {created.auth_token}")
    # Worker processes read their settings from the environment.
    os.environ["FLOWYARD_DATABASE_URL"] = settings.database_url
    os.environ["FLOWYARD_LOG_FORMAT"] = fmt
    os.environ["FLOWYARD_LOG_LEVEL"] = level
    os.environ["FLOWYARD_ACCESS_LOG"] = "on" if wanted.access_log else "off"
    log_start(host, port, settings)
    options = {
        "log_config": logs.uvicorn_log_config(level, fmt),
        "log_level": logs.LEVELS[level],
        "access_log": False,  # Flowyard writes its own (flowyard.api.access_log)
    }
    if workers > 1 and worker_processes.applies():
        # A listening socket per worker: uvicorn's workers share one, unevenly.
        status = worker_processes.serve(host, port, workers, options)
        if status:
            raise typer.Exit(status)
        return
    app = worker_processes.APP
    uvicorn.run(app, factory=True, host=host, port=port, workers=workers, **options)


def check_port(host: str, port: int) -> None:
    """A port another process listens on is a one-line error, not uvicorn's traceback after
    "listening" was printed."""
    import socket

    try:
        worker_processes.bound_socket(host, port).close()
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    except OSError as exc:
        raise UserError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server? pass --port)"
        ) from None


def log_start(host: str, port: int, settings: Settings) -> None:
    """Where to reach the server, which database it uses, and what is unsafe about it."""
    database = describe_database(settings.database_url)
    log.info(
        "Flowyard listening on http://%s:%d (console: /console), database %s",
        *(host, port, database),
        extra={"database": database},
    )
    if not settings.validate_signatures:
        log.warning(
            "X-Twilio-Signature checking is off (FLOWYARD_VALIDATE_SIGNATURES): anyone who can "
            "reach the flow webhook can start and answer executions; for local work only"
        )
    elif not settings.public_url:
        log.info(
            "FLOWYARD_PUBLIC_URL is not set: webhook signatures are checked against the URL "
            "each request reached (set it when Twilio calls through a proxy or a tunnel)"
        )


def describe_database(url: str) -> str:
    """``url`` fit for a log: a SQLite file as its absolute path, any password masked."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ":memory:"
        if name != ":memory:" and not name.startswith("file:"):
            name = str(Path(name).resolve())
        return f"SQLite {name}"
    return masked_url(url)
