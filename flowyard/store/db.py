"""Database engines for SQLite (default) and PostgreSQL, and schema migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain ``postgresql://`` URLs (psycopg2 is not a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def create_db_engine(url: str) -> sa.Engine:
    """An engine tuned for short inline queries: WAL SQLite or pooled PostgreSQL."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=_json_dumps,
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # sqlite3's own transaction handling issues BEGIN lazily; we want BEGIN IMMEDIATE
            # for writers, so take control of it.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # A writer takes the write lock up front: a deferred transaction that reads and
            # then writes can fail at once with SQLITE_BUSY when another process wrote between.
            immediate = conn.get_execution_options().get("flowyard_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, json_serializer=_json_dumps
    )


@contextmanager
def write(db: sa.Engine) -> Iterator[sa.Connection]:
    """A read-write transaction: BEGIN IMMEDIATE on SQLite, plain on PostgreSQL."""
    with db.connect() as conn:
        conn.execution_options(flowyard_write=True)
        with conn.begin():
            yield conn


def migrate(engine: sa.Engine) -> None:
    """Apply every Alembic migration that this database has not seen yet."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
