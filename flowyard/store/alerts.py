"""Debugger alerts: stored with the sprint (or the refusal) they describe, read newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Inserts
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import alerts

_INSERT = Inserts(alerts)


def insert_alerts(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        _INSERT.one(conn, row)


def list_alerts(
    conn: sa.Connection,
    account_sid: str,
    window: Window,
    *,
    log_level: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Slice:
    """Newest first, as the Monitor API lists them; ``start``/``end`` bound ``date_generated``
    (end exclusive)."""
    query = sa.select(alerts).where(alerts.c.account_sid == account_sid)
    if log_level:
        query = query.where(alerts.c.log_level == log_level)
    if start is not None:
        query = query.where(alerts.c.date_generated >= start)
    if end is not None:
        query = query.where(alerts.c.date_generated < end)
    return read_window(conn, query, alerts.c.id, window, descending=True)


def get_alert(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    return conn.execute(
        sa.select(alerts).where(alerts.c.account_sid == account_sid, alerts.c.sid == sid)
    ).first()


def delete_alert(conn: sa.Connection, account_sid: str, sid: str) -> bool:
    deleted = conn.execute(
        alerts.delete().where(alerts.c.account_sid == account_sid, alerts.c.sid == sid)
    )
    return deleted.rowcount > 0


def for_execution(conn: sa.Connection, account_sid: str, execution_sid: str) -> list[Any]:
    """An execution's alerts, oldest first (the order its steps ran in)."""
    return list(
        conn.execute(
            sa.select(alerts)
            .where(alerts.c.execution_sid == execution_sid, alerts.c.account_sid == account_sid)
            .order_by(alerts.c.id)
        )
    )


def recent_for_flow(
    conn: sa.Connection, account_sid: str, flow_sid: str, limit: int = 20
) -> list[Any]:
    """A flow's newest alerts, newest first."""
    return list(
        conn.execute(
            sa.select(alerts)
            .where(alerts.c.resource_sid == flow_sid, alerts.c.account_sid == account_sid)
            .order_by(alerts.c.id.desc())
            .limit(limit)
        )
    )
