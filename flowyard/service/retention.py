"""The retention loop: what is older than ``FLOWYARD_RETENTION_DAYS`` leaves the database.

Studio keeps execution and step data 30 days after an execution starts; so does Flowyard by
default (``0`` keeps everything). Every process runs the loop: batches are small and two
processes deleting at once only find less to delete. Flows and revisions are never touched.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import sqlalchemy as sa

from flowyard.service import metrics
from flowyard.store import retention
from flowyard.store.clock import utcnow

log = logging.getLogger("flowyard.retention")

# Between two batches: serving goes on in between (each batch holds the event loop briefly).
PAUSE = 0.05


def interval_for(days: float) -> float:
    """Seconds between passes: a minute, or less for a retention of minutes (tests)."""
    return min(60.0, max(0.5, days * 86400 / 20))


def run_pass(db: sa.Engine, days: float) -> dict[str, int]:
    """Delete one batch of each kind (blocking); how many rows of each went."""
    before = utcnow() - timedelta(days=days)
    counts = retention.delete_records(db, before)
    executions = retention.delete_executions(db, before)
    if executions:
        counts["executions"] = executions
    return counts


async def run_retention(db: sa.Engine, days: float) -> None:
    """Started with the app when ``days`` > 0: delete in batches until nothing is left, then
    look again after an interval."""
    while True:
        try:
            total: dict[str, int] = {}
            while counts := run_pass(db, days):
                for table, count in counts.items():
                    total[table] = total.get(table, 0) + count
                    metrics.retention_deleted(table, count)
                await asyncio.sleep(PAUSE)
            if total:
                log.info("retention deleted %s", ", ".join(f"{n} {t}" for t, n in total.items()))
        except Exception:
            log.exception("retention pass failed")
        await asyncio.sleep(interval_for(days))
