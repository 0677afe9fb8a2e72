"""Options and helpers shared by commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowyard.cli.errors import UserError
from flowyard.config import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL: sqlite:///path.db or postgresql://user@host/db. "
        "Default: FLOWYARD_DATABASE_URL, else flowyard.db in the user's data directory "
        "(`flowyard info` prints it).",
        show_default=False,
    ),
]


class NoDatabase(UserError):
    """A read-only command pointed at a SQLite database that does not exist."""


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for another database, or in memory)."""
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


def masked_url(url: str) -> str:
    """A database URL fit to show: its password, in the URL or its query, as ``***``."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)


def open_database(database_url: str | None, *, create: bool = True) -> tuple[Settings, sa.Engine]:
    """Settings from the environment and options, and a migrated database. ``create=False``
    (commands that only read): a SQLite file that does not exist is an error, not a new
    empty database."""
    # Imported here: SQLAlchemy and Alembic cost ~0.3 s, which `flowyard test` never needs.
    from flowyard.store import create_db_engine, migrate

    settings = Settings.from_env(database_url=database_url)
    path = sqlite_file(settings.database_url)
    if path is not None:
        if not path.exists() and not create:
            raise NoDatabase(
                f"no database at {path} (start `flowyard serve` once, or pass --database-url)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    db = create_db_engine(settings.database_url)
    migrate(db)
    return settings, db
