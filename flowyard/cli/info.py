"""``flowyard info``: which version, which database, which settings this machine would use."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from flowyard.cli.common import DatabaseUrl, masked_url, sqlite_file


def info(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print the version, the database every command uses here, and the data directory."""
    from importlib.metadata import version

    from platformdirs import user_data_path

    from flowyard.config import Settings

    settings = Settings.from_env(database_url=database_url)
    path = sqlite_file(settings.database_url)
    facts = {
        "version": version("flowyard"),
        "database": masked_url(settings.database_url),
        "database_exists": path.exists() if path is not None else None,
        "data_directory": str(user_data_path("flowyard")),
        "platform": settings.platform,
        "public_url": settings.public_url,
        "signature_checks": settings.validate_signatures,
        "retention_days": settings.retention_days,
    }
    if as_json:
        typer.echo(json.dumps(facts))
        return
    width = max(map(len, facts))
    for key, value in facts.items():
        typer.echo(f"{key.replace('_', ' '):<{width}}  {value}")
