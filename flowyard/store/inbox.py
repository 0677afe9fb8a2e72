"""Execution leases and the inbox of resumes waiting for them.

An execution's sprints run in one process at a time: the one whose name is in the row's
``lease_owner`` until ``lease_until``. Taking a lease is one guarded ``UPDATE`` (the database
decides between processes and nodes); a lease that ran out (its holder died) can be taken by
anyone. Resumes are stored in ``inbox`` first and applied by the lease holder in ``id`` order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Statement
from flowyard.store.tables import executions, inbox

_FREE = sa.or_(executions.c.lease_owner.is_(None), executions.c.lease_until < sa.bindparam("l_now"))
_CLAIM = (
    executions.update()
    .where(executions.c.sid == sa.bindparam("l_sid"), _FREE)
    .values(lease_owner=sa.bindparam("l_owner"), lease_until=sa.bindparam("l_until"))
    .returning(*executions.c)
)
_CLAIM_ST = Statement(_CLAIM, "Execution")
_ENQUEUE = Statement(
    inbox.insert()
    .values(
        execution_sid=sa.bindparam("i_sid"),
        kind=sa.bindparam("i_kind"),
        payload=sa.bindparam("i_payload"),
        date_created=sa.bindparam("i_date", type_=inbox.c.date_created.type),
    )
    .returning(inbox.c.id)
)
_PENDING = (
    sa.select(inbox)
    .where(inbox.c.execution_sid == sa.bindparam("i_sid"))
    .order_by(inbox.c.id)
    .limit(100)
)
_ANY = Statement(
    sa.select(inbox.c.id).where(inbox.c.execution_sid == sa.bindparam("i_sid")).limit(1)
)
_TAKE = Statement(inbox.delete().where(inbox.c.id == sa.bindparam("i_id")))
_EXISTS = Statement(sa.select(inbox.c.id).where(inbox.c.id == sa.bindparam("i_id")))


def claim(conn: sa.Connection, sid: str, owner: str, now: datetime, until: datetime) -> Any | None:
    """Take the execution's lease if nobody holds it (or its holder's ran out): its row, or
    None when another holder has it (or the execution is gone)."""
    return _CLAIM_ST.first(conn, {"l_sid": sid, "l_owner": owner, "l_until": until, "l_now": now})


def release(conn: sa.Connection, sid: str, owner: str) -> bool:
    """Give the lease back; whether resumes are waiting (then someone must take it again).

    The check runs after the release in one transaction, so a resume stored meanwhile is seen
    here or by its own writer's claim, which the release let through."""
    conn.execute(
        executions.update()
        .where(executions.c.sid == sid, executions.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
    return has_pending(conn, sid)


def renew(conn: sa.Connection, owner: str, sids: list[str], until: datetime) -> int:
    """Extend the leases ``owner`` holds on ``sids`` (its heartbeat); how many it still holds."""
    result = conn.execute(
        executions.update()
        .where(executions.c.sid.in_(sids), executions.c.lease_owner == owner)
        .values(lease_until=until)
    )
    return result.rowcount


def release_all(conn: sa.Connection, owner: str) -> None:
    """Hand back every lease ``owner`` still holds (a clean shutdown)."""
    conn.execute(
        executions.update()
        .where(executions.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def enqueue(conn: sa.Connection, sid: str, kind: str, payload: str, now: datetime) -> int:
    """Store a resume for ``sid``; its id (the order it is applied in)."""
    params = {"i_sid": sid, "i_kind": kind, "i_payload": payload, "i_date": now}
    return _ENQUEUE.first(conn, params)[0]


def pending(conn: sa.Connection, sid: str) -> list[Any]:
    """The execution's waiting resumes, oldest first (at most 100 at a time)."""
    return list(conn.execute(_PENDING, {"i_sid": sid}))


def has_pending(conn: sa.Connection, sid: str) -> bool:
    return _ANY.first(conn, {"i_sid": sid}) is not None


def take(conn: sa.Connection, item_id: int) -> None:
    """Remove an applied resume (in the transaction that commits what it did)."""
    _TAKE.execute(conn, {"i_id": item_id})


def is_waiting(conn: sa.Connection, item_id: int) -> bool:
    return _EXISTS.first(conn, {"i_id": item_id}) is not None


def runnable(conn: sa.Connection, now: datetime, limit: int) -> list[str]:
    """Executions with work and no live lease: resumes waiting, or a timer due."""
    free = sa.or_(executions.c.lease_owner.is_(None), executions.c.lease_until < now)
    waiting = (
        sa.select(inbox.c.execution_sid)
        .join(executions, executions.c.sid == inbox.c.execution_sid)
        .where(free)
        .distinct()
        .limit(limit)
    )
    due = (
        sa.select(executions.c.sid)
        .where(executions.c.wake_at <= now, executions.c.status == "active", free)
        .order_by(executions.c.wake_at)
        .limit(limit)
    )
    sids = list(conn.execute(waiting).scalars())
    sids += [sid for sid in conn.execute(due).scalars() if sid not in sids]
    return sids
