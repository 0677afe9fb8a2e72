"""What readiness checks and metrics read from the database: the schema revision and the
runtime's cluster-wide gauges: indexed lookups (and the inbox, which holds only what waits),
cheap however many executions the database keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from flowyard.store import events
from flowyard.store.db import MIGRATIONS
from flowyard.store.tables import executions, flows, inbox

_VERSION = sa.text("SELECT version_num FROM alembic_version")
# Active executions, and only they, have an ``active_contact``. Counted per flow, as a
# range of the (flow_sid, active_contact) unique index past its NULLs: a correlated count
# keeps both databases from scanning the whole index (every execution ever run) instead.
_PER_FLOW = (
    sa.select(sa.func.count())
    .where(executions.c.flow_sid == flows.c.sid, executions.c.active_contact.is_not(None))
    .correlate(flows)
    .scalar_subquery()
)
_ACTIVE = sa.select(sa.func.coalesce(sa.func.sum(_PER_FLOW), sa.literal_column("0"))).select_from(
    flows
)
# Ended executions keep no wake_at, so the wake_at index's first entry is the answer.
_OLDEST_DUE = (
    sa.select(executions.c.wake_at)
    .where(executions.c.wake_at <= sa.bindparam("now"), executions.c.status == "active")
    .order_by(executions.c.wake_at)
    .limit(1)
)
# The inbox only holds resumes not applied yet: a small table, whatever the history.
_INBOX = sa.select(sa.func.count(), sa.func.min(inbox.c.date_created))


@cache
def head_revision() -> str:
    """The migration this code expects the database to be at (read once per process)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def schema_revision(conn: sa.Connection) -> str | None:
    """The database's migration revision (None before the first migration)."""
    return conn.execute(_VERSION).scalar()


@dataclass(frozen=True)
class RuntimeGauges:
    """The runtime's state across every process sharing the database."""

    active_executions: int
    oldest_due: datetime | None  # the earliest wake_at that has come and not been handled
    inbox_waiting: int
    oldest_waiting: datetime | None  # when the oldest resume still in the inbox arrived
    events_waiting: int = 0  # Event Streams: events not taken by their sink yet
    events_oldest: datetime | None = None
    sinks: dict[str, int] = field(default_factory=dict)  # sinks by status


def runtime_gauges(conn: sa.Connection, now: datetime) -> RuntimeGauges:
    """Read the gauges in one transaction (so one snapshot on PostgreSQL)."""
    active = conn.execute(_ACTIVE).scalar() or 0
    oldest_due = conn.execute(_OLDEST_DUE, {"now": now}).scalar()
    waiting, oldest_waiting = conn.execute(_INBOX).one()
    events_waiting, _failed, events_oldest, sinks = events.health(conn)
    return RuntimeGauges(
        active, oldest_due, waiting or 0, oldest_waiting, events_waiting, events_oldest, sinks
    )
