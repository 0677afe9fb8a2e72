"""Database engines for SQLite (default) and PostgreSQL, schema migrations, and prebuilt
statements that run on the driver connection."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from flowyard.store.checkpoint import BACKSTOP_PAGES
from flowyard.store.compiled import Compiled

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")
# How long a SQLite writer waits for another's write lock before it fails.
BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain ``postgresql://`` URLs (psycopg2 is not a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def create_db_engine(url: str, *, background_checkpoint: bool = False) -> sa.Engine:
    """An engine tuned for short inline queries: WAL SQLite or pooled PostgreSQL.
    ``background_checkpoint``: SQLite's log is checkpointed by a ``Checkpointer`` the caller
    runs, so commits do not (see ``store/checkpoint.py``)."""
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
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if background_checkpoint:
                cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # A writer takes the write lock up front: a deferred transaction that reads and
            # then writes can fail at once with SQLITE_BUSY when another process wrote between.
            immediate = conn.get_execution_options().get("flowyard_write", False)
            # Straight to sqlite3: through exec_driver_sql this BEGIN cost as much as a query.
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

        _READERS[engine] = reader = _SqliteReader()
        # Disposing closes the connections the pool holds, so close this thread's reader too.
        sa.event.listen(engine, "engine_disposed", lambda _engine: reader.release(close=True))
        return engine
    # No pool_pre_ping: it cost a round trip (SELECT 1) on every checkout, one of the four a
    # fetch made. A connection that died anyway is found where it is used: SQLAlchemy then
    # invalidates the whole pool (a statement it runs), or _retrying runs the standalone read
    # again on a fresh one. So a database restart fails at most the transactions in flight.
    # pool_recycle retires connections before the idle timeouts of servers, poolers and NAT
    # gateways (an hour or more, typically) can cut them silently.
    return sa.create_engine(
        url, pool_size=10, max_overflow=20, pool_recycle=1800, json_serializer=_json_dumps
    )


@contextmanager
def write(db: sa.Engine) -> Iterator[sa.Connection]:
    """A read-write transaction: BEGIN IMMEDIATE on SQLite, plain on PostgreSQL."""
    with db.connect() as conn:
        conn.execution_options(flowyard_write=True)
        with conn.begin():
            yield conn


def write_alone(db: sa.Engine, change: Callable[..., T], *args: Any) -> T:
    """``change(conn, *args)`` in a write transaction of its own: its result. Blocking; the
    runtime calls it in a thread (``asyncio.to_thread``) where the write may wait for another
    process's, so that the wait holds no request of this process."""
    with write(db) as conn:
        return change(conn, *args)


class Busy(Exception):
    """SQLite's write lock is held by another connection: nothing was written."""


def write_if_free(db: sa.Engine, change: Callable[..., T], *args: Any) -> T:
    """SQLite: :func:`write_alone` if the database's write lock is free now, without waiting
    for it; else ``Busy``, with nothing written. Cheap enough for the event loop, where a
    wait for the lock would hold every request."""
    with db.connect() as conn:
        driver = conn.connection.driver_connection
        driver.execute("PRAGMA busy_timeout=0")
        try:
            conn.execution_options(flowyard_write=True)
            with conn.begin():
                return change(conn, *args)
        except (sa.exc.OperationalError, sqlite3.OperationalError) as exc:
            # BEGIN IMMEDIATE failed (raised as is by the ``begin`` hook), or (rarely) a later
            # step did: either way nothing was written.
            if getattr(getattr(exc, "orig", exc), "sqlite_errorname", "") == "SQLITE_BUSY":
                raise Busy from exc
            raise
        finally:
            driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def migrate(engine: sa.Engine) -> None:
    """Apply every Alembic migration that this database has not seen yet."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


# --- prebuilt statements -----------------------------------------------------------------------


class _SqliteReader(threading.local):
    """Per thread, one pooled SQLite connection kept checked out for standalone reads.

    A pool checkout and checkin cost as much as the fetch's query itself. sqlite3 runs here
    in autocommit mode and every read is fetched whole, so between reads the connection holds
    no transaction and no open statement: nothing a fresh checkout would have reset.
    """

    pool: sa.pool.Pool | None = None
    pooled: Any = None

    def driver(self, db: sa.Engine) -> Any:
        if self.pool is not db.pool:  # first read, or the engine was disposed since
            self.release()
            self.pooled, self.pool = db.raw_connection(), db.pool
        return self.pooled.driver_connection

    def release(self, *, close: bool = False) -> None:
        """Check the connection back in; ``close`` closes it (its pool is being disposed)."""
        if self.pooled is not None:
            if close:
                self.pooled.invalidate()
            self.pooled.close()
        self.pooled = self.pool = None


_READERS: weakref.WeakKeyDictionary[sa.Engine, _SqliteReader] = weakref.WeakKeyDictionary()


def _autocommit_read(driver: Any, sql: str, args: Any) -> list[Any]:
    """One statement on a psycopg connection, outside any transaction."""
    # In its default mode psycopg sends BEGIN before the statement and the pool a ROLLBACK
    # after it: three round trips for one SELECT.
    driver.autocommit = True
    try:
        return driver.execute(sql, args).fetchall()
    finally:
        if not driver.closed:  # a broken connection is invalidated, not reused
            driver.autocommit = False


def _retrying(db: sa.Engine, run: Callable[[Any], list[Any]]) -> list[Any]:
    """``run(driver connection)`` on a pooled connection; one found dead is replaced and
    ``run`` retried (there is no pre-ping, see create_db_engine), once per stale pooled
    connection at most."""
    pool = db.pool
    for _attempt in range(pool.size() + 1 if isinstance(pool, sa.pool.QueuePool) else 1):
        pooled = db.raw_connection()
        try:
            return run(pooled.driver_connection)
        except db.dialect.loaded_dbapi.Error as exc:
            if not db.dialect.is_disconnect(exc, pooled.driver_connection, None):
                raise
            pooled.invalidate(exc)
        finally:
            pooled.close()
    raise sa.exc.DisconnectionError("no live database connection after retries")


class Statement:
    """A Core statement compiled once per dialect and run on the DBAPI connection.

    ``conn.execute(statement)`` regenerates the statement's cache key and builds a
    CursorResult on every call: on a one-row fetch that was most of the request. The SQL is
    still written with SQLAlchemy Core, here in the store; only its execution is direct.
    Values are bound with ``sa.bindparam`` names and passed as a dict; rows are named tuples
    whose values went through the same type processors SQLAlchemy would apply.

    The target is either an ``sa.Connection`` (the statement joins its transaction, which
    begins as ``conn.execute`` would begin it) or an ``sa.Engine``: for a read that is a
    request's only statement, run outside any transaction (a transaction adds a BEGIN and a
    ROLLBACK), on SQLite on a connection each thread keeps checked out.
    """

    def __init__(self, statement: sa.Executable, name: str = "Row") -> None:
        self.statement = statement
        columns = getattr(statement, "exported_columns", None)
        self.row_class: Any = namedtuple(name, [c.name for c in columns]) if columns else None
        self._compiled: dict[tuple[str, str], Compiled] = {}

    def _for(self, dialect: Any) -> Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = Compiled(self.statement, self.row_class, dialect)
        return compiled

    def all(self, target: sa.Connection | sa.Engine, params: Mapping[str, Any]) -> list[Any]:
        """Every row (of a SELECT, or of an INSERT/UPDATE ... RETURNING)."""
        if isinstance(target, sa.Engine):
            return self._standalone(target, params)
        compiled = self._for(target.dialect)
        return compiled.rows(_cursor(target, compiled.sql, compiled.make_args(params)).fetchall())

    def first(self, target: sa.Connection | sa.Engine, params: Mapping[str, Any]) -> Any | None:
        """The first row or None."""
        rows = self.all(target, params)
        return rows[0] if rows else None

    def execute(self, conn: sa.Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows in ``conn``'s transaction; the row count."""
        compiled = self._for(conn.dialect)
        return _cursor(conn, compiled.sql, compiled.make_args(params)).rowcount

    def execute_many(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement that returns no rows once per item of ``rows``, in one driver
        ``executemany`` (psycopg pipelines it: one round trip for all)."""
        if rows:
            compiled = self._for(conn.dialect)
            make_args = compiled.make_args
            _cursor(conn, compiled.sql, [make_args(row) for row in rows], many=True)

    def commit_alone(self, db: sa.Engine, params: Mapping[str, Any]) -> list[Any]:
        """Run a writing statement as its own transaction on PostgreSQL (autocommit: the
        statement is atomic, and committed, synchronous_commit and all, when it returns);
        its rows. One round trip, no BEGIN or COMMIT. Not retried: a connection found dead
        is invalidated and the error raised, as a transaction's would be."""
        compiled = self._for(db.dialect)
        args = compiled.make_args(params)
        dbapi = db.dialect.loaded_dbapi
        pooled = db.raw_connection()
        try:
            raws = _autocommit_read(pooled.driver_connection, compiled.sql, args)
        except dbapi.Error as exc:
            if db.dialect.is_disconnect(exc, pooled.driver_connection, None):
                pooled.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                compiled.sql, args, exc, dbapi.Error, dialect=db.dialect
            ) from exc
        finally:
            pooled.close()
        return compiled.rows(raws)

    def _standalone(self, db: sa.Engine, params: Mapping[str, Any]) -> list[Any]:
        # Compiled only once a connection exists: connecting initialises the dialect.
        reader = _READERS.get(db)
        if reader is not None:
            driver = reader.driver(db)
            compiled = self._for(db.dialect)
            try:
                raws = driver.execute(compiled.sql, compiled.make_args(params)).fetchall()
            except BaseException:
                reader.release()  # whatever went wrong, the next read starts on a fresh checkout
                raise
            return compiled.rows(raws)
        if db.dialect.name != "postgresql":  # no tuned path: a plain connection does it
            with db.connect() as conn:
                return self.all(conn, params)

        def read(driver: Any) -> list[Any]:
            compiled = self._for(db.dialect)
            return compiled.rows(_autocommit_read(driver, compiled.sql, compiled.make_args(params)))

        return _retrying(db, read)


class Plan:
    """One statement that does a unit of work by itself, and what its rows become: run in a
    transaction, committed alone (one round trip), or sent with others
    (``store.loop_writer``)."""

    __slots__ = ("params", "result", "statement")

    def __init__(
        self, statement: Statement, params: Mapping[str, Any], result: Callable[[Any], Any]
    ) -> None:
        self.statement = statement
        self.params = params
        self.result = result  # the first row (or None) -> the work's result

    def run(self, target: sa.Connection | sa.Engine) -> Any:
        """In ``target``'s transaction, or (an engine) committed alone on PostgreSQL."""
        if isinstance(target, sa.Engine):
            rows = self.statement.commit_alone(target, self.params)
        else:
            rows = self.statement.all(target, self.params)
        return self.result(rows[0] if rows else None)


def _cursor(conn: sa.Connection, sql: str, args: Any, *, many: bool = False) -> Any:
    if not conn.in_transaction():
        conn.begin()  # what conn.execute would do: reads of one block share a snapshot
    driver = conn.connection.driver_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        if many:
            cursor = driver.cursor()
            cursor.executemany(sql, args)
            return cursor
        return driver.execute(sql, args)
    except dbapi.Error as exc:
        # Raised as conn.execute raises it (sqlalchemy.exc.IntegrityError, ...), so callers
        # handle one family of errors whichever way a statement ran.
        raise sa.exc.DBAPIError.instance(
            sql, args, exc, dbapi.Error, dialect=conn.dialect, ismulti=many
        ) from exc


class Inserts:
    """``INSERT`` of a row given as ``{column: value}``, prebuilt per set of columns given
    (columns left out keep their server defaults, as with ``conn.execute(table.insert(), row)``).
    """

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self._by_keys: dict[tuple[str, ...], Statement] = {}

    def _statement(self, keys: tuple[str, ...]) -> Statement:
        statement = self._by_keys.get(keys)
        if statement is None:
            values = {k: sa.bindparam(k, type_=self.table.c[k].type) for k in keys}
            statement = self._by_keys[keys] = Statement(self.table.insert().values(values))
        return statement

    def one(self, conn: sa.Connection, row: Mapping[str, Any]) -> None:
        self._statement(tuple(row)).execute(conn, row)

    def many(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows with the same columns, in one ``executemany``."""
        if rows:
            self._statement(tuple(rows[0])).execute_many(conn, rows)
