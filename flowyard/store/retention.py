"""Retention: delete what is older than the retention period, a small batch at a time.

Executions go with their steps and waiting resumes, counted from their start, once ended (an
execution still active is ended by its lifetime first). Messages (SMS and conversation),
tasks, calls, recordings and alerts go by their own date; conversations and participants
by their last update. Each batch is one short transaction,
so serving never waits long behind it, and two processes deleting at once only find less.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from flowyard.store.db import write
from flowyard.store.tables import (
    alerts,
    calls,
    conversation_messages,
    conversation_participants,
    conversations,
    executions,
    inbox,
    messages,
    recordings,
    steps,
)
from flowyard.store.tables import tasks as tasks_table

BATCH = 200
# Records kept by their own date: (table, its date column).
_DATED = (
    (messages, messages.c.date_created),
    (conversation_messages, conversation_messages.c.date_created),
    # A conversation (and who is in it) stays while it is still being resumed.
    (conversations, conversations.c.date_updated),
    (conversation_participants, conversation_participants.c.date_updated),
    (tasks_table, tasks_table.c.date_created),
    (calls, calls.c.date_created),
    (recordings, recordings.c.date_created),
    (alerts, alerts.c.date_generated),
)


def delete_executions(db: sa.Engine, before: datetime, limit: int = BATCH) -> int:
    """One batch of ended executions started before ``before``, with their steps and inbox
    rows; how many executions were deleted."""
    with write(db) as conn:
        sids = list(
            conn.scalars(
                sa.select(executions.c.sid)
                .where(executions.c.date_created < before, executions.c.status == "ended")
                .order_by(executions.c.date_created)
                .limit(limit)
            )
        )
        if not sids:
            return 0
        conn.execute(steps.delete().where(steps.c.execution_sid.in_(sids)))
        conn.execute(inbox.delete().where(inbox.c.execution_sid.in_(sids)))
        deleted = conn.execute(
            executions.delete().where(executions.c.sid.in_(sids), executions.c.status == "ended")
        )
        return deleted.rowcount


def delete_records(db: sa.Engine, before: datetime, limit: int = BATCH) -> dict[str, int]:
    """One batch of each kind of record dated before ``before``: how many of each went."""
    counts: dict[str, int] = {}
    for table, date in _DATED:
        with write(db) as conn:
            ids = sa.select(table.c.id).where(date < before).order_by(date).limit(limit)
            ids = list(conn.scalars(ids))
            if ids:
                counts[table.name] = conn.execute(
                    table.delete().where(table.c.id.in_(ids))
                ).rowcount
    return counts
