"""The first answer to each webhook that Twilio may send again (see ``tables.webhook_receipts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.tables import webhook_receipts


def begin(conn: sa.Connection, key: str, account_sid: str, now: datetime) -> Any | None:
    """Record that the request ``key`` is being answered; None if it is new, else the receipt
    of the first request (``status`` None while that one is still being answered).

    The insert has a savepoint of its own: a duplicate key costs nothing else of the
    transaction."""
    found = conn.execute(sa.select(webhook_receipts).where(webhook_receipts.c.key == key)).first()
    if found is not None:
        return found
    try:
        with conn.begin_nested():
            conn.execute(
                webhook_receipts.insert().values(key=key, account_sid=account_sid, date_created=now)
            )
    except sa.exc.IntegrityError:  # the same request arrived twice at once
        return conn.execute(
            sa.select(webhook_receipts).where(webhook_receipts.c.key == key)
        ).first()
    return None


def finish(conn: sa.Connection, key: str, status: int, body: str, content_type: str) -> None:
    conn.execute(
        webhook_receipts.update()
        .where(webhook_receipts.c.key == key)
        .values(status=status, body=body, content_type=content_type)
    )


def forget(conn: sa.Connection, key: str) -> None:
    """Drop an unfinished receipt (its request failed): a retry is then answered afresh."""
    conn.execute(
        webhook_receipts.delete().where(
            webhook_receipts.c.key == key, webhook_receipts.c.status.is_(None)
        )
    )


def get(conn: sa.Connection, key: str) -> Any | None:
    return conn.execute(sa.select(webhook_receipts).where(webhook_receipts.c.key == key)).first()


def prune(conn: sa.Connection, before: datetime, limit: int = 1000) -> int:
    """Delete receipts older than ``before`` (Twilio stops retrying long before), in a batch."""
    old = (
        sa.select(webhook_receipts.c.key)
        .where(webhook_receipts.c.date_created < before)
        .limit(limit)
        .scalar_subquery()
    )
    return conn.execute(webhook_receipts.delete().where(webhook_receipts.c.key.in_(old))).rowcount
