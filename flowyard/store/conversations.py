"""Messages of Conversations: the contacts' (from the flow webhook) and the flows' posts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Inserts
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import conversation_messages as table

_INSERT = Inserts(table)


def insert_message(conn: sa.Connection, values: dict[str, Any]) -> None:
    _INSERT.one(conn, values)


def message_exists(conn: sa.Connection, sid: str) -> bool:
    return conn.execute(sa.select(table.c.id).where(table.c.sid == sid)).first() is not None


def get_message(
    conn: sa.Connection, account_sid: str, conversation_sid: str, sid: str
) -> Any | None:
    return conn.execute(
        sa.select(table).where(
            table.c.account_sid == account_sid,
            table.c.conversation_sid == conversation_sid,
            table.c.sid == sid,
        )
    ).first()


def next_index(conn: sa.Connection, account_sid: str, conversation_sid: str) -> int:
    """The index a new message of the conversation gets: one past the highest so far."""
    highest = conn.execute(
        sa.select(sa.func.max(table.c.index)).where(
            table.c.account_sid == account_sid, table.c.conversation_sid == conversation_sid
        )
    ).scalar()
    return 0 if highest is None else int(highest) + 1


def list_messages(
    conn: sa.Connection,
    account_sid: str,
    conversation_sid: str,
    window: Window,
    *,
    descending: bool = False,
) -> Slice:
    """Oldest first (the resource's default ``Order=asc``), or newest first."""
    query = sa.select(table).where(
        table.c.account_sid == account_sid, table.c.conversation_sid == conversation_sid
    )
    return read_window(conn, query, table.c.id, window, descending=descending)
