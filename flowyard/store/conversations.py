"""Conversations: their messages (the contacts', from the flow webhook, and the flows' posts),
the conversations themselves and their participants."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Inserts
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import conversation_messages as table
from flowyard.store.tables import conversation_participants as participants_table
from flowyard.store.tables import conversations as conversations_table

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


# -- the conversations themselves and their participants ---------------------------------------

_CONVERSATION = Inserts(conversations_table)
_PARTICIPANT = Inserts(participants_table)


def insert_conversation(conn: sa.Connection, values: dict[str, Any]) -> None:
    _CONVERSATION.one(conn, values)


def insert_participant(conn: sa.Connection, values: dict[str, Any]) -> None:
    _PARTICIPANT.one(conn, values)


def get_conversation(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    c = conversations_table.c
    query = sa.select(conversations_table).where(c.account_sid == account_sid, c.sid == sid)
    return conn.execute(query).first()


def update_conversation(
    conn: sa.Connection, account_sid: str, sid: str, values: dict[str, Any]
) -> None:
    c = conversations_table.c
    conn.execute(
        conversations_table.update().where(c.account_sid == account_sid, c.sid == sid),
        values,
    )


def with_webhook(conn: sa.Connection, account_sid: str, execution_sid: str) -> list[Any]:
    """The conversations attached to an execution whose webhook is still registered."""
    c = conversations_table.c
    query = sa.select(conversations_table).where(
        c.execution_sid == execution_sid, c.account_sid == account_sid, c.webhook_sid.isnot(None)
    )
    return list(conn.execute(query))


def participants(conn: sa.Connection, account_sid: str, conversation_sid: str) -> list[Any]:
    """Every participant, in the order they joined."""
    c = participants_table.c
    query = (
        sa.select(participants_table)
        .where(c.account_sid == account_sid, c.conversation_sid == conversation_sid)
        .order_by(c.id)
    )
    return list(conn.execute(query))


def list_participants(
    conn: sa.Connection, account_sid: str, conversation_sid: str, window: Window
) -> Slice:
    c = participants_table.c
    query = sa.select(participants_table).where(
        c.account_sid == account_sid, c.conversation_sid == conversation_sid
    )
    return read_window(conn, query, c.id, window)


def _insert_new(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """Insert unless a row with the same account and SID is there (two webhooks of one new
    conversation at once must both be accepted, not refused as a duplicate)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(values)
    conn.execute(statement.on_conflict_do_nothing(index_elements=["account_sid", "sid"]))


def heard(
    conn: sa.Connection, conversation: dict[str, Any], participant: dict[str, Any] | None
) -> None:
    """Record a conversation (and participant) a webhook message came from, unless known
    (``platform.fake_conversations.heard_rows`` builds them)."""
    _insert_new(conn, conversations_table, conversation)
    if participant is not None:
        _insert_new(conn, participants_table, participant)
