"""PostgreSQL: a sprint's writes in one statement each (one round trip instead of four).

On PostgreSQL every statement is a round trip (the driver is synchronous; group commits wait
in their own thread, other statements hold the event loop), and round trips were most of an
execution's cost. Data-modifying CTEs run as one
statement; rows come in one JSON parameter each (``json_populate_recordset``), serialised by
orjson in C. SQLite keeps the plain statements: they are calls inside the process.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard.store.db import Plan, Statement
from flowyard.store.flows import FlowChanged, start_state
from flowyard.store.tables import event_outbox, executions, messages, steps


def _json_insert(table: sa.Table, param: str, *, many: bool = True) -> tuple[str, frozenset]:
    """``INSERT`` of the rows in one JSON parameter (every column but ``id``)."""
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
# Event Streams: a sprint's outbox rows ride in the same statement (a subscribed account
# keeps the one round trip).
_EVENTS_SQL, _EVENT_NAMES = _json_insert(event_outbox, "o")
# By name: the table's column order is the migrations', not necessarily this one.
_RETURNED = ", ".join(f'"{c.name}"' for c in executions.c)
_Execution = namedtuple("Execution", [c.name for c in executions.c])
_MORE = sa.column("more", sa.Boolean)
_ITEM = sa.column("item_id", sa.Integer)

# A new execution and its trigger, inserted only if the flow still has the start state its
# revision was chosen on (``flows.start_state``).
_START = Statement(
    sa.text(
        f"WITH e AS ({_NEW_SQL} WHERE EXISTS (SELECT 1 FROM flows WHERE sid = :g_sid "
        "AND account_sid = :g_account AND revision = CAST(:g_revision AS integer) "
        "AND published_revision IS NOT DISTINCT FROM CAST(:g_published AS integer) "
        f"AND test_users = :g_test_users) RETURNING {_RETURNED}), "
        "i AS (INSERT INTO inbox (execution_sid, kind, payload, date_created) "
        "SELECT sid, :i_kind, :i_payload, CAST(:i_date AS timestamp) FROM e RETURNING id) "
        f"SELECT {', '.join(f'e.{name}' for name in _RETURNED.split(', '))}, i.id AS item_id "
        "FROM e, i"
    ).columns(*executions.c, _ITEM),
    "Started",
)


def start_plan(
    execution: dict[str, Any], item: dict[str, Any], flow_row: Any | None
) -> Plan | None:
    """Insert a new execution (every column but ``id``) and its trigger's inbox row; the
    plan's result is the execution as stored and the inbox row's id. ``flow_row``: a cached
    flow row to check (``FlowChanged`` if stale). None where this statement does not apply."""
    if flow_row is None or execution.keys() != _NEW_NAMES:
        return None
    revision, published, test_users = start_state(flow_row)
    params = {
        "e": orjson.dumps(execution).decode(),
        "g_sid": flow_row.sid,
        "g_account": flow_row.account_sid,
        "g_revision": revision,
        "g_published": published,
        "g_test_users": test_users,
        "i_kind": item["kind"],
        "i_payload": item["payload"],
        "i_date": item["date_created"].isoformat(),
    }

    def started(row: Any | None) -> tuple[Any, int]:
        if row is None:
            raise FlowChanged(flow_row.sid)
        return _Execution(*row[:-1]), row.item_id

    return Plan(_START, params, started)


_FINISHES: dict[tuple[tuple[str, ...], bool], Statement] = {}


def _finish_statement(keys: tuple[str, ...], release: bool) -> Statement:
    sets = [f'"{k}" = :v_{k}' for k in keys] + ["version = executions.version + 1"]
    if release:
        sets += ["lease_owner = NULL", "lease_until = NULL"]
    guard = " WHERE EXISTS (SELECT 1 FROM s)"
    sql = (
        f"WITH s AS (UPDATE executions SET {', '.join(sets)} "
        f"WHERE sid = :l_sid AND lease_owner = :l_owner RETURNING {_RETURNED}), "
        f"st AS ({_STEPS_SQL}{guard}), m AS ({_MESSAGES_SQL}{guard}), "
        f"o AS ({_EVENTS_SQL}{guard}), "
        f"d AS (DELETE FROM inbox WHERE id = CAST(:i_id AS integer) AND EXISTS (SELECT 1 FROM s)) "
        # The DELETE is not visible to the rest of this statement: leave its row out by hand.
        f"SELECT {_RETURNED}, EXISTS (SELECT 1 FROM inbox WHERE execution_sid = :l_sid "
        "AND id IS DISTINCT FROM CAST(:i_id AS integer)) AS more FROM s"
    )
    types = [sa.bindparam(f"v_{k}", type_=executions.c[k].type) for k in keys]
    return Statement(sa.text(sql).bindparams(*types).columns(*executions.c, _MORE), "Finished")


def finish_plan(
    sid: str,
    owner: str,
    values: dict[str, Any],
    *,
    release: bool,
    step_rows: list[dict[str, Any]],
    message_rows: list[dict[str, Any]],
    item_id: int | None,
    event_rows: list[dict[str, Any]] | None = None,
) -> Plan | None:
    """A sprint's outcome, its steps, messages and outbox events, and its resume taken out of
    the inbox, if ``owner`` still holds the execution; the plan's result is the row as
    written (None if the lease was lost) and whether other resumes wait. None where this
    statement does not apply (rows that leave columns to their defaults)."""
    event_rows = event_rows or []
    if (
        any(r.keys() != _STEP_NAMES for r in step_rows)
        or any(r.keys() != _MESSAGE_NAMES for r in message_rows)
        or any(r.keys() != _EVENT_NAMES for r in event_rows)
    ):
        return None
    statement = _FINISHES.get((tuple(values), release))
    if statement is None:
        statement = _FINISHES[tuple(values), release] = _finish_statement(tuple(values), release)
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(
        l_sid=sid,
        l_owner=owner,
        s=orjson.dumps(step_rows).decode(),
        m=orjson.dumps(message_rows).decode(),
        o=orjson.dumps(event_rows).decode(),
        i_id=item_id,
    )

    def finished(row: Any | None) -> tuple[Any, bool]:
        if row is None:
            return None, False
        return _Execution(*row[:-1]), bool(row.more) and release

    return Plan(statement, params, finished)
