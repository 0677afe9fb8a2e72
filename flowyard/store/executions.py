"""Executions and their steps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard.store.db import Inserts, Statement
from flowyard.store.flows import FlowChanged, start_state
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import executions, inbox, messages, steps, tasks

# Statements are built once: building and cache-keying Core statements per call cost more
# than running them on SQLite. The create path's run prebuilt on the driver (store.db).
_INSERT = Inserts(executions)
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
_SAVE = executions.update().where(
    executions.c.sid == sa.bindparam("e_sid"), executions.c.version == sa.bindparam("e_version")
)


def insert_execution(conn: sa.Connection, values: dict[str, Any]) -> None:
    """Insert a new execution.

    Raises ``sqlalchemy.exc.IntegrityError`` when the contact already has an active execution
    in this flow (a unique index); the transaction is then lost, so run this one alone.
    """
    _INSERT.one(conn, values)


def insert_new_execution(conn: sa.Connection, values: dict[str, Any]) -> Callable[[], Any]:
    """Insert an execution given every column but ``id``; called, the result is the row as
    stored (in a batched ``write``, call it after the block: see ``Statement.submit``).

    Raises ``sqlalchemy.exc.IntegrityError`` as :func:`insert_execution` does (in a batched
    ``write``, by the end of the block at the latest).
    """
    rows = _INSERT_RETURNING.submit(conn, values)
    return lambda: rows()[0]


def _json_insert(table: sa.Table, param: str, *, many: bool = True) -> tuple[str, frozenset]:
    """``INSERT`` of the rows in one JSON parameter (PostgreSQL ``json_populate_recordset``):
    any number of rows in one fixed statement, the values serialised by orjson in C rather
    than adapted one by one by the driver."""
    names = [c.name for c in table.c if c.name != "id"]
    columns = ", ".join(f'"{n}"' for n in names)
    function = "json_populate_recordset" if many else "json_populate_record"
    sql = (
        f"INSERT INTO {table.name} ({columns}) "
        f"SELECT {columns} FROM {function}(NULL::{table.name}, CAST(:{param} AS json))"
    )
    return sql, frozenset(names)


_NEW_SQL, _NEW_NAMES = _json_insert(executions, "e", many=False)
_STEPS_SQL, _STEP_NAMES = _json_insert(steps, "s")
_MESSAGES_SQL, _MESSAGE_NAMES = _json_insert(messages, "m")
_TASKS_SQL, _TASK_NAMES = _json_insert(tasks, "t")
# PostgreSQL only: a new execution with its steps, messages and tasks in one statement (the
# data-modifying CTEs run as one; foreign keys are checked at its end).
_RETURNED = ", ".join(f'"{c.name}"' for c in executions.c)  # by name: the table's own
# column order is the migrations' order, not necessarily this one
# The execution is inserted only if its flow still has the start state (flows.start_state)
# its revision was chosen on; the other rows only with it.
_FLOW_GUARD = (
    "EXISTS (SELECT 1 FROM flows WHERE sid = :g_sid AND account_sid = :g_account "
    "AND revision = CAST(:g_revision AS integer) "
    "AND published_revision IS NOT DISTINCT FROM CAST(:g_published AS integer) "
    "AND test_users = :g_test_users)"
)
_WITH_E = " WHERE EXISTS (SELECT 1 FROM e)"
_INSERT_ALL = Statement(
    sa.text(
        f"WITH e AS ({_NEW_SQL} WHERE {_FLOW_GUARD} RETURNING {_RETURNED}), "
        f"s AS ({_STEPS_SQL}{_WITH_E}), m AS ({_MESSAGES_SQL}{_WITH_E}), "
        f"t AS ({_TASKS_SQL}{_WITH_E}) SELECT {_RETURNED} FROM e"
    ).columns(*executions.c),
    "Execution",
)


def _json_rows(names: frozenset, rows: list[dict[str, Any]]) -> str | None:
    if any(row.keys() != names for row in rows):
        return None  # some column left to its server default: not this statement's shape
    return orjson.dumps(rows).decode()


def insert_started(
    db: sa.Engine,
    execution: dict[str, Any],
    step_rows: list[dict[str, Any]],
    message_rows: list[dict[str, Any]],
    task_rows: list[dict[str, Any]],
    flow_row: Any,
) -> Any | None:
    """On PostgreSQL, commit a new execution, its steps, messages and tasks (each row with
    every column but ``id``) in one statement, its own transaction: one round trip. The
    execution row as stored; None where that statement does not apply (SQLite, or rows that
    leave columns to their defaults): then use a batched ``write``.

    ``flow_row`` is the flow row the execution's revision was chosen on: when the flow no
    longer has its ``flows.start_state``, nothing is written and ``flows.FlowChanged`` is
    raised. Raises ``sqlalchemy.exc.IntegrityError`` as :func:`insert_execution` does, and
    then nothing was written either.
    """
    if db.dialect.name != "postgresql" or execution.keys() != _NEW_NAMES:
        return None
    params = {
        "e": orjson.dumps(execution).decode(),
        "s": _json_rows(_STEP_NAMES, step_rows),
        "m": _json_rows(_MESSAGE_NAMES, message_rows),
        "t": _json_rows(_TASK_NAMES, task_rows),
    }
    if None in params.values():
        return None
    revision, published, test_users = start_state(flow_row)
    params.update(
        g_sid=flow_row.sid,
        g_account=flow_row.account_sid,
        g_revision=revision,
        g_published=published,
        g_test_users=test_users,
    )
    rows = _INSERT_ALL.commit_alone(db, params)
    if not rows:
        raise FlowChanged(flow_row.sid)
    return rows[0]


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
) -> Slice:
    """Newest first, as Studio lists them."""
    query = sa.select(executions).where(executions.c.flow_sid == flow_sid)
    if status:
        query = query.where(executions.c.status == status)
    if created_from:
        query = query.where(executions.c.date_created >= created_from)
    if created_to:
        query = query.where(executions.c.date_created <= created_to)
    return read_window(conn, query, executions.c.id, window, descending=True)


def save_execution(conn: sa.Connection, sid: str, version: int, values: dict[str, Any]) -> bool:
    """Write a sprint's outcome if nobody else committed since ``version`` was read."""
    result = conn.execute(
        _SAVE, {"e_sid": sid, "e_version": version, **values, "version": version + 1}
    )
    return result.rowcount == 1


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
