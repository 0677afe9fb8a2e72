"""Calls (both directions) and call recordings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import calls, recordings

_INSERT_CALL = calls.insert()
_BY_SID = sa.select(calls).where(calls.c.sid == sa.bindparam("c_sid"))


def insert_call(conn: sa.Connection, values: dict[str, Any]) -> None:
    conn.execute(_INSERT_CALL, values)


def get_call(conn: sa.Connection, sid: str) -> Any | None:
    return conn.execute(_BY_SID, {"c_sid": sid}).first()


def get_account_call(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    return conn.execute(
        sa.select(calls).where(calls.c.account_sid == account_sid, calls.c.sid == sid)
    ).first()


def call_of_execution(conn: sa.Connection, execution_sid: str) -> Any | None:
    """The execution's latest call (an outbound execution may place more than one)."""
    return conn.execute(
        sa.select(calls)
        .where(calls.c.execution_sid == execution_sid)
        .order_by(calls.c.id.desc())
        .limit(1)
    ).first()


def update_call(conn: sa.Connection, sid: str, values: dict[str, Any]) -> None:
    conn.execute(calls.update().where(calls.c.sid == sid).values(**values))


def list_calls(
    conn: sa.Connection,
    account_sid: str,
    window: Window,
    *,
    to: str | None = None,
    from_: str | None = None,
    status: str | None = None,
) -> Slice:
    """Newest first, as the Calls resource lists them."""
    query = sa.select(calls).where(calls.c.account_sid == account_sid)
    if to:
        query = query.where(calls.c.to == to)
    if from_:
        query = query.where(calls.c.from_ == from_)
    if status:
        query = query.where(calls.c.status == status)
    return read_window(conn, query, calls.c.id, window, descending=True)


def insert_recording(conn: sa.Connection, values: dict[str, Any]) -> None:
    conn.execute(recordings.insert(), values)


def active_recording(conn: sa.Connection, call_sid: str) -> Any | None:
    return conn.execute(
        sa.select(recordings)
        .where(recordings.c.call_sid == call_sid, recordings.c.status == "in-progress")
        .order_by(recordings.c.id.desc())
        .limit(1)
    ).first()


def update_recording(conn: sa.Connection, sid: str, values: dict[str, Any]) -> None:
    conn.execute(recordings.update().where(recordings.c.sid == sid).values(**values))


def list_recordings(conn: sa.Connection, call_sid: str) -> list[Any]:
    return list(
        conn.execute(
            sa.select(recordings).where(recordings.c.call_sid == call_sid).order_by(recordings.c.id)
        )
    )
