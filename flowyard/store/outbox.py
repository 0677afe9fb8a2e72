"""The local platform's records: messages (both directions) and Flex tasks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Inserts
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import messages, tasks

_INSERT_MESSAGE = Inserts(messages)
_INSERT_TASK = Inserts(tasks)


def insert_message(conn: sa.Connection, values: dict[str, Any]) -> None:
    _INSERT_MESSAGE.one(conn, values)


def update_message_status(
    conn: sa.Connection, sid: str, status: str, error_code: int | None, when: Any
) -> None:
    conn.execute(
        messages.update()
        .where(messages.c.sid == sid)
        .values(status=status, error_code=error_code, date_updated=when)
    )


def list_messages(
    conn: sa.Connection,
    account_sid: str,
    window: Window,
    *,
    to: str | None = None,
    from_: str | None = None,
) -> Slice:
    """Newest first, as the Messages resource lists them."""
    query = sa.select(messages).where(messages.c.account_sid == account_sid)
    if to:
        query = query.where(messages.c.to == to)
    if from_:
        query = query.where(messages.c.from_ == from_)
    return read_window(conn, query, messages.c.id, window, descending=True)


def get_message(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    return conn.execute(
        sa.select(messages).where(messages.c.account_sid == account_sid, messages.c.sid == sid)
    ).first()


def message_exists(conn: sa.Connection, sid: str) -> bool:
    return conn.execute(sa.select(messages.c.id).where(messages.c.sid == sid)).first() is not None


def insert_task(conn: sa.Connection, values: dict[str, Any]) -> None:
    _INSERT_TASK.one(conn, values)


def list_tasks(conn: sa.Connection, account_sid: str) -> list[Any]:
    return list(
        conn.execute(
            sa.select(tasks).where(tasks.c.account_sid == account_sid).order_by(tasks.c.id)
        )
    )
