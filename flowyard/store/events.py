"""Event Streams storage: sinks, subscriptions and their types, and the outbox of events.

The outbox holds one row per sprint and sink (its events one a line,
``service.event_lines``), in commit order. A process delivers to a sink
only while it holds the sink's claim (``claim``: one guarded ``UPDATE``, so the database
decides between processes); a dead holder's claim runs out and another process takes over,
sending again what was not deleted yet (at least once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Inserts, Statement
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import (
    event_outbox,
    event_sinks,
    event_subscribed_types,
    event_subscriptions,
)

_OUTBOX = Inserts(event_outbox)
# What the runtime reads for an account at most once a second (service.events.Subscribers).
_ROUTES = Statement(
    sa.select(event_subscribed_types.c.type, event_subscriptions.c.sink_sid)
    .join(
        event_subscriptions,
        event_subscriptions.c.sid == event_subscribed_types.c.subscription_sid,
    )
    .where(event_subscribed_types.c.account_sid == sa.bindparam("account"))
)


# -- sinks ---------------------------------------------------------------------------------


def insert_sink(conn: sa.Connection, row: dict[str, Any]) -> Any:
    conn.execute(event_sinks.insert().values(row))
    return get_sink(conn, row["account_sid"], row["sid"])


def get_sink(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    return conn.execute(
        sa.select(event_sinks).where(
            event_sinks.c.sid == sid, event_sinks.c.account_sid == account_sid
        )
    ).first()


def list_sinks(
    conn: sa.Connection,
    account_sid: str,
    window: Window,
    *,
    status: str | None = None,
    in_use: bool | None = None,
) -> Slice:
    query = sa.select(event_sinks).where(event_sinks.c.account_sid == account_sid)
    if status:
        query = query.where(event_sinks.c.status == status)
    if in_use is not None:
        used = sa.exists().where(event_subscriptions.c.sink_sid == event_sinks.c.sid)
        query = query.where(used if in_use else ~used)
    return read_window(conn, query, event_sinks.c.id, window)


def update_sink(conn: sa.Connection, account_sid: str, sid: str, values: dict[str, Any]) -> bool:
    result = conn.execute(
        event_sinks.update()
        .where(event_sinks.c.sid == sid, event_sinks.c.account_sid == account_sid)
        .values(values)
    )
    return result.rowcount > 0


def delete_sink(conn: sa.Connection, account_sid: str, sid: str) -> bool:
    """The sink, its subscriptions and what waits for it."""
    found = get_sink(conn, account_sid, sid)
    if found is None:
        return False
    subs = sa.select(event_subscriptions.c.sid).where(event_subscriptions.c.sink_sid == sid)
    conn.execute(
        event_subscribed_types.delete().where(event_subscribed_types.c.subscription_sid.in_(subs))
    )
    conn.execute(event_subscriptions.delete().where(event_subscriptions.c.sink_sid == sid))
    conn.execute(event_outbox.delete().where(event_outbox.c.sink_sid == sid))
    conn.execute(event_sinks.delete().where(event_sinks.c.sid == sid))
    return True


# -- subscriptions --------------------------------------------------------------------------


def insert_subscription(
    conn: sa.Connection, row: dict[str, Any], types: Sequence[tuple[str, int]]
) -> Any:
    conn.execute(event_subscriptions.insert().values(row))
    for kind, version in types:
        set_type(conn, row["account_sid"], row["sid"], kind, version)
    return get_subscription(conn, row["account_sid"], row["sid"])


def get_subscription(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    return conn.execute(
        sa.select(event_subscriptions).where(
            event_subscriptions.c.sid == sid, event_subscriptions.c.account_sid == account_sid
        )
    ).first()


def list_subscriptions(
    conn: sa.Connection, account_sid: str, window: Window, *, sink_sid: str | None = None
) -> Slice:
    query = sa.select(event_subscriptions).where(event_subscriptions.c.account_sid == account_sid)
    if sink_sid:
        query = query.where(event_subscriptions.c.sink_sid == sink_sid)
    return read_window(conn, query, event_subscriptions.c.id, window)


def update_subscription(
    conn: sa.Connection, account_sid: str, sid: str, values: dict[str, Any]
) -> bool:
    result = conn.execute(
        event_subscriptions.update()
        .where(event_subscriptions.c.sid == sid, event_subscriptions.c.account_sid == account_sid)
        .values(values)
    )
    return result.rowcount > 0


def delete_subscription(conn: sa.Connection, account_sid: str, sid: str) -> bool:
    if get_subscription(conn, account_sid, sid) is None:
        return False
    conn.execute(
        event_subscribed_types.delete().where(event_subscribed_types.c.subscription_sid == sid)
    )
    conn.execute(event_subscriptions.delete().where(event_subscriptions.c.sid == sid))
    return True


def set_type(conn: sa.Connection, account_sid: str, sub_sid: str, kind: str, version: int) -> None:
    """Subscribe ``sub_sid`` to ``kind`` (or change its schema version)."""
    changed = conn.execute(
        event_subscribed_types.update()
        .where(
            event_subscribed_types.c.subscription_sid == sub_sid,
            event_subscribed_types.c.type == kind,
        )
        .values(schema_version=version)
    )
    if not changed.rowcount:
        conn.execute(
            event_subscribed_types.insert().values(
                subscription_sid=sub_sid, account_sid=account_sid, type=kind, schema_version=version
            )
        )


def get_type(conn: sa.Connection, sub_sid: str, kind: str) -> Any | None:
    return conn.execute(
        sa.select(event_subscribed_types).where(
            event_subscribed_types.c.subscription_sid == sub_sid,
            event_subscribed_types.c.type == kind,
        )
    ).first()


def list_types(conn: sa.Connection, sub_sid: str, window: Window) -> Slice:
    query = sa.select(event_subscribed_types).where(
        event_subscribed_types.c.subscription_sid == sub_sid
    )
    return read_window(conn, query, event_subscribed_types.c.id, window)


def delete_type(conn: sa.Connection, sub_sid: str, kind: str) -> bool:
    result = conn.execute(
        event_subscribed_types.delete().where(
            event_subscribed_types.c.subscription_sid == sub_sid,
            event_subscribed_types.c.type == kind,
        )
    )
    return result.rowcount > 0


def types_of(conn: sa.Connection, sub_sids: Sequence[str]) -> dict[str, list[str]]:
    """Each subscription's event types (the console's list)."""
    found: dict[str, list[str]] = {sid: [] for sid in sub_sids}
    if sub_sids:
        rows = conn.execute(
            sa.select(event_subscribed_types.c.subscription_sid, event_subscribed_types.c.type)
            .where(event_subscribed_types.c.subscription_sid.in_(list(sub_sids)))
            .order_by(event_subscribed_types.c.id)
        )
        for sub, kind in rows:
            found[sub].append(kind)
    return found


def routes(target: sa.Connection | sa.Engine, account_sid: str) -> list[tuple[str, str]]:
    """``(event type, sink SID)`` of every subscription of the account."""
    return [tuple(row) for row in _ROUTES.all(target, {"account": account_sid})]  # type: ignore[misc]


# -- the outbox ---------------------------------------------------------------------------


def insert_events(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    _OUTBOX.many(conn, rows)


def due_sinks(conn: sa.Connection, now: datetime, limit: int = 100) -> list[str]:
    """Sinks with events waiting, nobody delivering to them, and not backing off."""
    waiting = sa.exists().where(event_outbox.c.sink_sid == event_sinks.c.sid)
    return list(
        conn.scalars(
            sa.select(event_sinks.c.sid)
            .where(
                waiting,
                sa.or_(event_sinks.c.claimed_until.is_(None), event_sinks.c.claimed_until < now),
                sa.or_(event_sinks.c.retry_at.is_(None), event_sinks.c.retry_at <= now),
            )
            .limit(limit)
        )
    )


def claim(conn: sa.Connection, sid: str, owner: str, now: datetime, until: datetime) -> Any | None:
    """Take the sink's claim if nobody holds it (or its holder's ran out): its row, or None."""
    free = sa.or_(event_sinks.c.claimed_until.is_(None), event_sinks.c.claimed_until < now)
    return conn.execute(
        event_sinks.update()
        .where(event_sinks.c.sid == sid, free)
        .values(claimed_by=owner, claimed_until=until)
        .returning(*event_sinks.c)
    ).first()


def renew(
    conn: sa.Connection, sid: str, owner: str, until: datetime, values: dict[str, Any] | None = None
) -> bool:
    """Extend our claim, setting ``values`` too (a round's outcome); False when it was lost
    (we stalled past it), and then nothing changed."""
    result = conn.execute(
        event_sinks.update()
        .where(event_sinks.c.sid == sid, event_sinks.c.claimed_by == owner)
        .values(claimed_until=until, **(values or {}))
    )
    return result.rowcount > 0


def release(conn: sa.Connection, sid: str, owner: str, values: dict[str, Any]) -> None:
    """Give the claim back, with the outcome of the deliveries (failures, retry_at, status)."""
    conn.execute(
        event_sinks.update()
        .where(event_sinks.c.sid == sid, event_sinks.c.claimed_by == owner)
        .values(claimed_by=None, claimed_until=None, **values)
    )


# Named tuples, not SQLAlchemy rows: delivery reads their fields for every event, and a
# Row's attribute costs ~1 µs here (measured; a tuple's, 30 ns). Only what delivery reads:
# a date is parsed on every row read.
_PENDING = Statement(
    sa.select(
        *(
            event_outbox.c[name]
            for name in ("id", "account_sid", "execution_sid", "event", "count", "sent")
        )
    )
    .where(event_outbox.c.sink_sid == sa.bindparam("sink"))
    .order_by(event_outbox.c.id)
    .limit(sa.bindparam("limit")),
    "Pending",
)


def pending(conn: sa.Connection, sink_sid: str, limit: int) -> list[Any]:
    """The sink's oldest waiting events, in commit order."""
    return _PENDING.all(conn, {"sink": sink_sid, "limit": limit})


def delivered(conn: sa.Connection, ids: Sequence[int], partly: dict[int, int]) -> None:
    """Rows whose events were all taken go; ``partly``: row id -> events taken so far."""
    if ids:
        conn.execute(event_outbox.delete().where(event_outbox.c.id.in_(list(ids))))
    for row_id, sent in partly.items():
        conn.execute(event_outbox.update().where(event_outbox.c.id == row_id).values(sent=sent))


def attempted(conn: sa.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(
            event_outbox.update()
            .where(event_outbox.c.id.in_(list(ids)))
            .values(attempts=event_outbox.c.attempts + 1)
        )


def backlog(conn: sa.Connection, sink_sids: Sequence[str]) -> dict[str, tuple[int, Any]]:
    """Per sink: how many events wait, and the oldest one's date."""
    if not sink_sids:
        return {}
    waiting = sa.func.sum(event_outbox.c.count - event_outbox.c.sent)
    rows = conn.execute(
        sa.select(event_outbox.c.sink_sid, waiting, sa.func.min(event_outbox.c.date_created))
        .where(event_outbox.c.sink_sid.in_(list(sink_sids)))
        .group_by(event_outbox.c.sink_sid)
    )
    return {sid: (int(count or 0), oldest) for sid, count, oldest in rows}


def health(conn: sa.Connection) -> tuple[int, int, Any, dict[str, int]]:
    """For /metrics: events waiting, sinks failed, the oldest waiting event, sinks by status."""
    waiting, oldest = conn.execute(
        sa.select(
            sa.func.sum(event_outbox.c.count - event_outbox.c.sent),
            sa.func.min(event_outbox.c.date_created),
        )
    ).one()
    by_status = dict(
        conn.execute(
            sa.select(event_sinks.c.status, sa.func.count()).group_by(event_sinks.c.status)
        ).all()
    )
    return int(waiting or 0), by_status.get("failed", 0), oldest, by_status
