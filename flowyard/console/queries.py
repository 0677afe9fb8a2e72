"""Read-only aggregates the console shows and the store does not offer yet.

Kept together and free of web code so they can move into ``flowyard.store`` as they are.
Every query is filtered by account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.tables import alerts, executions, messages, steps


def active_counts(
    conn: sa.Connection, account_sid: str, flow_sids: Iterable[str]
) -> dict[str, int]:
    """Active executions per flow, for the given flows (absent means none)."""
    sids = list(flow_sids)
    if not sids:
        return {}
    rows = conn.execute(
        sa.select(executions.c.flow_sid, sa.func.count())
        .where(
            executions.c.account_sid == account_sid,
            executions.c.status == "active",
            executions.c.flow_sid.in_(sids),
        )
        .group_by(executions.c.flow_sid)
    )
    return {sid: count for sid, count in rows}


def widget_traffic(
    conn: sa.Connection, account_sid: str, flow_sid: str, since: datetime | None
) -> tuple[int, dict[str, int]]:
    """Executions started since ``since``, and per widget how many of them entered it."""
    started = sa.select(sa.func.count()).where(
        executions.c.account_sid == account_sid, executions.c.flow_sid == flow_sid
    )
    entered = (
        sa.select(steps.c.transitioned_to, sa.func.count(sa.distinct(steps.c.execution_sid)))
        .where(steps.c.account_sid == account_sid, steps.c.flow_sid == flow_sid)
        .group_by(steps.c.transitioned_to)
    )
    if since is not None:
        started = started.where(executions.c.date_created >= since)
        entered = entered.where(steps.c.date_created >= since)
    total = conn.execute(started).scalar() or 0
    return total, {name: count for name, count in conn.execute(entered)}


def transition_traffic(
    conn: sa.Connection, account_sid: str, flow_sid: str, since: datetime | None
) -> list[tuple[str, str, str, int]]:
    """Steps since ``since`` per (from, event, to): how often each transition was taken.

    Steps keep no condition index, so two conditions of a split that lead to the same
    widget count together. ``ix_steps_flow_date`` serves the filter.
    """
    query = (
        sa.select(steps.c.transitioned_from, steps.c.name, steps.c.transitioned_to, sa.func.count())
        .where(steps.c.account_sid == account_sid, steps.c.flow_sid == flow_sid)
        .group_by(steps.c.transitioned_from, steps.c.name, steps.c.transitioned_to)
    )
    if since is not None:
        query = query.where(steps.c.date_created >= since)
    return [(row[0], row[1], row[2], row[3]) for row in conn.execute(query)]


def last_step(conn: sa.Connection, account_sid: str, execution_sid: str) -> Any | None:
    """The newest step of an execution: where it is now (or where it ended)."""
    return conn.execute(
        sa.select(steps.c.name, steps.c.transitioned_from, steps.c.transitioned_to)
        .where(steps.c.account_sid == account_sid, steps.c.execution_sid == execution_sid)
        .order_by(steps.c.id.desc())
        .limit(1)
    ).first()


def conversation(
    conn: sa.Connection, account_sid: str, contact: str, after: int, limit: int = 200
) -> list[Any]:
    """Messages to or from a contact with an id above ``after``, oldest first."""
    return list(
        conn.execute(
            sa.select(
                messages.c.id,
                messages.c.sid,
                messages.c.direction,
                messages.c.from_,
                messages.c.to,
                messages.c.body,
                messages.c.media_urls,
                messages.c.execution_sid,
                messages.c.date_created,
            )
            .where(
                messages.c.account_sid == account_sid,
                sa.or_(messages.c.to == contact, messages.c.from_ == contact),
                messages.c.id > after,
            )
            .order_by(messages.c.id)
            .limit(limit)
        )
    )


def latest_execution(
    conn: sa.Connection, account_sid: str, flow_sid: str, contact: str
) -> Any | None:
    """The contact's newest execution of a flow, active or not."""
    return conn.execute(
        sa.select(executions)
        .where(
            executions.c.account_sid == account_sid,
            executions.c.flow_sid == flow_sid,
            executions.c.contact_channel_address == contact,
        )
        .order_by(executions.c.id.desc())
        .limit(1)
    ).first()


def last_message_id(conn: sa.Connection, account_sid: str) -> int:
    """The newest message id of the account: where a new conversation view starts."""
    value = conn.execute(
        sa.select(sa.func.max(messages.c.id)).where(messages.c.account_sid == account_sid)
    ).scalar()
    return int(value or 0)


def open_executions(
    conn: sa.Connection, account_sid: str, flow_sid: str, contact: str, limit: int = 20
) -> list[str]:
    """The contact's active executions of a flow and their newest one (which a message they
    just sent may have started and ended already), newest first."""
    mine = sa.and_(
        executions.c.account_sid == account_sid,
        executions.c.flow_sid == flow_sid,
        executions.c.contact_channel_address == contact,
    )
    newest = conn.execute(
        sa.select(executions.c.sid).where(mine).order_by(executions.c.id.desc()).limit(1)
    ).scalar()
    active = conn.execute(
        sa.select(executions.c.sid)
        .where(mine, executions.c.status == "active")
        .order_by(executions.c.id.desc())
        .limit(limit)
    ).scalars()
    return list(dict.fromkeys([*([newest] if newest else []), *active]))


def contact_alerts(
    conn: sa.Connection, account_sid: str, flow_sid: str, contact: str, after: int, limit: int = 20
) -> list[Any]:
    """Alerts with an id above ``after`` of the contact's executions of a flow, oldest first."""
    theirs = sa.select(executions.c.sid).where(
        executions.c.account_sid == account_sid,
        executions.c.flow_sid == flow_sid,
        executions.c.contact_channel_address == contact,
    )
    return list(
        conn.execute(
            sa.select(alerts)
            .where(
                alerts.c.account_sid == account_sid,
                alerts.c.resource_sid == flow_sid,
                alerts.c.id > after,
                alerts.c.execution_sid.in_(theirs),
            )
            .order_by(alerts.c.id)
            .limit(limit)
        )
    )


def last_alert_id(conn: sa.Connection, account_sid: str) -> int:
    """The newest alert id of the account: where a new simulator panel starts."""
    value = conn.execute(
        sa.select(sa.func.max(alerts.c.id)).where(alerts.c.account_sid == account_sid)
    ).scalar()
    return int(value or 0)


def flows_of_executions(
    conn: sa.Connection, account_sid: str, execution_sids: Iterable[str | None]
) -> dict[str, str]:
    """The flow of each given execution of the account (absent when deleted or another's)."""
    sids = sorted({sid for sid in execution_sids if sid})
    if not sids:
        return {}
    rows = conn.execute(
        sa.select(executions.c.sid, executions.c.flow_sid).where(
            executions.c.account_sid == account_sid, executions.c.sid.in_(sids)
        )
    )
    return {sid: flow_sid for sid, flow_sid in rows}
