"""Group commit: the writes of many coroutines in one transaction, off the event loop.

Each execution needs two commits (stored when accepted, then its sprint's outcome); under load
many of them are ready at once. Committing those together costs one BEGIN and one COMMIT (one
durable write) for all instead of one each.

The batch runs in a thread of its own while the event loop goes on serving requests and
running sprints, which become the next batch: on PostgreSQL the loop used to sit idle for
every round trip, and on SQLite it waited for the pages to be written. One batch is in flight
at a time per process, so batches grow by themselves when the database is slow, and a
writer never queues behind another writer of its own process. On PostgreSQL a batch of
one-statement works is sent from the event loop itself (``store.loop_writer``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa

from flowyard.store.db import Plan, write
from flowyard.store.loop_writer import LoopWriter

T = TypeVar("T")
Planner = Callable[[], Plan | None] | None
Work = tuple[Callable[[sa.Connection], Any], Planner]


class GroupCommit:
    """Run ``work(conn)`` callables in shared write transactions, one batch at a time."""

    def __init__(self, db: sa.Engine, max_batch: int = 64) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: list[tuple[Callable[[sa.Connection], Any], Planner, asyncio.Future[Any]]] = []
        self._busy = False  # a batch is being written, or its flush is scheduled
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the batches settle on
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="flowyard-commit")
        self._loop_writer = LoopWriter(db) if db.dialect.name == "postgresql" else None
        self._on_loop: asyncio.Task[None] | None = None  # the batch being written from the loop

    async def run(self, work: Callable[[sa.Connection], T], plan: Planner = None) -> T:
        """``work(conn)`` committed (with whatever else is ready now); its result, or its
        exception as if it had run alone. ``work`` only writes, and may run in another
        thread, and twice (alone, after a batch it was part of failed). ``plan()``: the same
        work as one statement (``store.db.Plan``; None where that does not apply): on
        PostgreSQL, a batch whose works all have one is sent from the event loop
        (``store.loop_writer``), one that runs alone is committed without a transaction."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A loop that closed with a batch in flight never settled it: what it left is
            # nobody's now, and the next batch would otherwise wait for it for ever.
            self._loop, self._queue, self._busy = loop, [], False
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((work, plan, future))
        if not self._busy:
            self._busy = True
            loop.call_soon(self._flush)  # what else this turn of the loop makes ready joins
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        if not batch:
            self._busy = False
            return
        loop = asyncio.get_running_loop()
        works = [w[:2] for w in batch]
        plans = None
        if self._loop_writer is not None:
            # In the thread, a work whose plan cannot be built fails alone.
            with contextlib.suppress(Exception):
                plans = _plans(works)
        if plans is not None:
            self._on_loop = loop.create_task(self._write_on_loop(batch, works, plans))
            return
        written = loop.run_in_executor(self._thread, _commit, self.db, works)
        written.add_done_callback(lambda done: self._settle(batch, done.result()))

    async def _write_on_loop(self, batch: list[Any], works: list[Work], plans: list[Plan]) -> None:
        assert self._loop_writer is not None
        try:
            try:
                firsts = await self._loop_writer.write(plans)
            except Exception:
                loop = asyncio.get_running_loop()
                outcomes = await loop.run_in_executor(self._thread, _each_alone, self.db, works)
            else:
                # Committed: what each work's rows mean is its own affair (a start whose flow
                # changed raises FlowChanged, the others stand).
                pairs = zip(plans, firsts, strict=True)
                outcomes = [_outcome(plan.result, first) for plan, first in pairs]
        except BaseException:
            for _work, _plan, future in batch:
                future.cancel()
            raise
        self._settle(batch, outcomes)

    def _settle(self, batch: list[Any], outcomes: list[tuple[bool, Any]]) -> None:
        for (_work, _plan, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():  # its coroutine was cancelled meanwhile
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._flush()

    def close(self) -> None:
        """Stop the writing thread once what it was given is written."""
        self._thread.shutdown(wait=True)
        if self._loop_writer is not None:
            self._loop_writer.close()


def _commit(db: sa.Engine, batch: list[Work]) -> list[tuple[bool, Any]]:
    """Each work's (ok, result or exception): all in one transaction when there are several;
    alone, each in its own, when there is one or the shared transaction failed."""
    if len(batch) > 1:
        try:
            with write(db) as conn:
                return [(True, work(conn)) for work, _plan in batch]
        except Exception:
            pass  # each runs again alone below, so its own error is the one raised
    return _each_alone(db, batch)


def _each_alone(db: sa.Engine, batch: list[Work]) -> list[tuple[bool, Any]]:
    """Each work's (ok, result or exception), each in a transaction of its own."""
    outcomes: list[tuple[bool, Any]] = []
    for work, planner in batch:
        try:
            plan = planner() if planner is not None else None
            if plan is not None:
                result = plan.run(db)
            else:
                with write(db) as conn:
                    result = work(conn)
        except Exception as exc:
            outcomes.append((False, exc))
        else:
            outcomes.append((True, result))
    return outcomes


def _outcome(result: Callable[[Any], Any], first: Any) -> tuple[bool, Any]:
    try:
        return True, result(first)
    except Exception as exc:
        return False, exc


def _plans(batch: list[Work]) -> list[Plan] | None:
    """Every work's plan, or None as soon as one has none (nothing built in vain)."""
    plans = []
    for _work, planner in batch:
        plan = planner() if planner is not None else None
        if plan is None:
            return None
        plans.append(plan)
    return plans
