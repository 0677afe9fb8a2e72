"""Reading and deleting executions and steps; running them lives in ``service.runtime``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard.engine import apply_patch
from flowyard.errors import not_found
from flowyard.service.flows import require_flow
from flowyard.store import executions as store
from flowyard.store import write
from flowyard.store.paging import Slice, Window


def _path(flow_sid: str, sid: str = "") -> str:
    return f"/Flows/{flow_sid}/Executions" + (f"/{sid}" if sid else "")


def require_execution(
    conn: sa.Connection, account_sid: str, flow_sid: str, sid: str, *, for_update: bool = False
) -> Any:
    row = store.get_execution(conn, account_sid, flow_sid, sid, for_update=for_update)
    if row is None:
        raise not_found(_path(flow_sid, sid))
    return row


def get_execution(db: sa.Engine, account_sid: str, flow_sid: str, sid: str) -> Any:
    with db.connect() as conn:
        return require_execution(conn, account_sid, flow_sid, sid)


def list_executions(
    db: sa.Engine,
    account_sid: str,
    flow_sid: str,
    window: Window,
    *,
    status: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    contact: str | None = None,
) -> Slice:
    with db.connect() as conn:
        require_flow(conn, account_sid, flow_sid)
        return store.list_executions(
            conn,
            flow_sid,
            window,
            status=status,
            created_from=created_from,
            created_to=created_to,
            contact=contact,
        )


def delete_execution(db: sa.Engine, account_sid: str, flow_sid: str, sid: str) -> None:
    with write(db) as conn:
        require_execution(conn, account_sid, flow_sid, sid)
        store.delete_execution(conn, sid)


def list_steps(
    db: sa.Engine, account_sid: str, flow_sid: str, sid: str, window: Window
) -> tuple[Slice, list[Any]]:
    """A page of steps and each step's context, rebuilt from the patches in one pass."""
    with db.connect() as conn:
        execution = require_execution(conn, account_sid, flow_sid, sid)
        result = store.list_steps(conn, sid, window)
        if not result.rows:
            return result, []
        newest = max(row.id for row in result.rows)
        patches = store.patches_until(conn, sid, newest)
    wanted = {row.id for row in result.rows}
    context = orjson.loads(execution.base_context)
    contexts: dict[int, Any] = {}
    for step_id, patch in patches:
        context = apply_patch(context, orjson.loads(patch))
        if step_id in wanted:
            contexts[step_id] = context
    return result, [contexts[row.id] for row in result.rows]


def get_step(
    db: sa.Engine, account_sid: str, flow_sid: str, sid: str, step_sid: str
) -> tuple[Any, Any]:
    """A step and its context (the execution's context right after that step)."""
    with db.connect() as conn:
        execution = require_execution(conn, account_sid, flow_sid, sid)
        step = store.get_step(conn, sid, step_sid)
        if step is None:
            raise not_found(_path(flow_sid, sid) + f"/Steps/{step_sid}")
        patches = store.patches_until(conn, sid, step.id)
    context = orjson.loads(execution.base_context)
    for _, patch in patches:
        context = apply_patch(context, orjson.loads(patch))
    return step, context
