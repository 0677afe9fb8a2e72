"""Executions and their steps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Inserts, Statement
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import executions, inbox, steps

# Statements are built once: building and cache-keying Core statements per call cost more
# than running them on SQLite. The create path's run prebuilt on the driver (store.db).
_INSERT_STEPS = Inserts(steps)
_NEW_COLUMNS = tuple(c.name for c in executions.c if c.name != "id")
_INSERT_RETURNING = Statement(
    executions.insert()
    .values({k: sa.bindparam(k, type_=executions.c[k].type) for k in _NEW_COLUMNS})
    .returning(*executions.c),
    "Execution",
)
_BY_SID = sa.select(executions).where(executions.c.sid == sa.bindparam("e_sid"))
_ACTIVE = sa.select(executions).where(
    executions.c.flow_sid == sa.bindparam("e_flow"),
    executions.c.active_contact == sa.bindparam("e_contact"),
)


def insert_new_execution(conn: sa.Connection, values: dict[str, Any]) -> Any:
    """Insert an execution given every column but ``id``; the row as stored.

    Raises ``sqlalchemy.exc.IntegrityError`` when the contact already has an active execution
    in this flow (a unique index); the transaction is then lost.
    """
    return _INSERT_RETURNING.first(conn, values)


def find_active(conn: sa.Connection, flow_sid: str, contact: str) -> Any | None:
    return conn.execute(_ACTIVE, {"e_flow": flow_sid, "e_contact": contact}).first()


def get_execution(
    conn: sa.Connection, account_sid: str, flow_sid: str, sid: str, *, for_update: bool = False
) -> Any | None:
    query = sa.select(executions).where(
        executions.c.sid == sid,
        executions.c.flow_sid == flow_sid,
        executions.c.account_sid == account_sid,
    )
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).first()


def get_execution_by_sid(conn: sa.Connection, sid: str) -> Any | None:
    return conn.execute(_BY_SID, {"e_sid": sid}).first()


def list_executions(
    conn: sa.Connection,
    flow_sid: str,
    window: Window,
    *,
    status: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    contact: str | None = None,
) -> Slice:
    """Newest first, as Studio lists them. ``contact``: part of the contact's address (any
    case); a scan of the flow's executions, for the console's search."""
    query = sa.select(executions).where(executions.c.flow_sid == flow_sid)
    if status:
        query = query.where(executions.c.status == status)
    if created_from:
        query = query.where(executions.c.date_created >= created_from)
    if created_to:
        query = query.where(executions.c.date_created <= created_to)
    if contact:
        address = executions.c.contact_channel_address
        query = query.where(address.icontains(contact, autoescape=True))
    return read_window(conn, query, executions.c.id, window, descending=True)


_SAVES: dict[tuple[tuple[str, ...], bool], Statement] = {}


def _save_statement(keys: tuple[str, ...], release: bool) -> Statement:
    """``UPDATE`` of ``keys`` guarded by the lease, prebuilt per set of keys (building one per
    call cost more than running it)."""
    statement = _SAVES.get((keys, release))
    if statement is None:
        values: dict[str, Any] = {
            k: sa.bindparam(f"v_{k}", type_=executions.c[k].type) for k in keys
        }
        values["version"] = executions.c.version + 1
        if release:
            values.update(lease_owner=None, lease_until=None)
        query = (
            executions.update()
            .where(
                executions.c.sid == sa.bindparam("l_sid"),
                executions.c.lease_owner == sa.bindparam("l_owner"),
            )
            .values(values)
            .returning(*executions.c)
        )
        statement = _SAVES[keys, release] = Statement(query, "Execution")
    return statement


def save_leased(
    conn: sa.Connection, sid: str, owner: str, values: dict[str, Any], *, release: bool
) -> Any | None:
    """Write a sprint's outcome if ``owner`` still holds the execution's lease (``release``:
    and give the lease back); the row as written, or None when the lease was lost."""
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(l_sid=sid, l_owner=owner)
    return _save_statement(tuple(values), release).first(conn, params)


def delete_execution(conn: sa.Connection, sid: str) -> None:
    conn.execute(inbox.delete().where(inbox.c.execution_sid == sid))
    conn.execute(steps.delete().where(steps.c.execution_sid == sid))
    conn.execute(executions.delete().where(executions.c.sid == sid))


def insert_steps(conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Steps that all give the same columns, in one ``executemany``."""
    _INSERT_STEPS.many(conn, list(rows))


def list_steps(conn: sa.Connection, execution_sid: str, window: Window) -> Slice:
    """Newest first, like every Twilio list of events."""
    query = sa.select(steps).where(steps.c.execution_sid == execution_sid)
    return read_window(conn, query, steps.c.id, window, descending=True)


def get_step(conn: sa.Connection, execution_sid: str, sid: str) -> Any | None:
    return conn.execute(
        sa.select(steps).where(steps.c.execution_sid == execution_sid, steps.c.sid == sid)
    ).first()


def patches_until(conn: sa.Connection, execution_sid: str, step_id: int) -> list[Any]:
    """``(id, patch)`` of every step up to and including ``step_id``, in order."""
    return list(
        conn.execute(
            sa.select(steps.c.id, steps.c.patch)
            .where(steps.c.execution_sid == execution_sid, steps.c.id <= step_id)
            .order_by(steps.c.id)
        )
    )


def find_call_waiting_for_reply(conn: sa.Connection, flow_sid: str, contact: str) -> Any | None:
    """The newest execution of a call from ``contact`` that waits for an SMS reply.

    With concurrent calls allowed, a call's slot is ``contact#CallSid``, so the contact's own
    slot does not find it.
    """
    query = (
        sa.select(executions)
        .where(
            executions.c.flow_sid == flow_sid,
            executions.c.active_contact.startswith(f"{contact}#", autoescape=True),
            executions.c.waiting_for == "reply",
        )
        .order_by(executions.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).first()
