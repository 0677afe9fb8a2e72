"""Options and helpers shared by commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flowyard.config import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL: sqlite:///path.db or postgresql://user@host/db. "
        "Default: FLOWYARD_DATABASE_URL, else sqlite:///flowyard.db in the working directory.",
        show_default=False,
    ),
]


def open_database(database_url: str | None) -> tuple[Settings, sa.Engine]:
    """Settings from the environment and options, and a migrated database."""
    # Imported here: SQLAlchemy and Alembic cost ~0.3 s, which `flowyard test` never needs.
    from flowyard.store import create_db_engine, migrate

    settings = Settings.from_env(database_url=database_url)
    db = create_db_engine(settings.database_url)
    migrate(db)
    return settings, db
