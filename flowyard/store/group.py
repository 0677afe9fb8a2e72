"""Group commit: the writes of many coroutines in one transaction.

Each execution needs two commits (stored when accepted, then its sprint's outcome); under load
many of them are ready in the same turn of the event loop. Committing those together costs one
BEGIN and one COMMIT (one durable write) for all instead of one each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from flowyard.store.db import write

T = TypeVar("T")
Alone = Callable[[], Any] | None


class GroupCommit:
    """Run ``work(conn)`` callables in shared write transactions, one per event-loop turn."""

    def __init__(self, db: sa.Engine, max_batch: int = 64) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: list[tuple[Callable[[sa.Connection], Any], Alone, asyncio.Future[Any]]] = []
        self._scheduled = False

    async def run(self, work: Callable[[sa.Connection], T], alone: Alone = None) -> T:
        """``work(conn)`` committed (with whatever else is ready now); its result, or its
        exception as if it had run alone. ``work`` only writes: it may run twice (alone,
        after a batch it was part of failed). ``alone()``: the same work committed by
        itself without a transaction around it (one statement), used when nothing else is
        ready; it returns None where it does not apply."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((work, alone, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        if self._queue:
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._scheduled = False
        if len(batch) > 1:
            try:
                with write(self.db) as conn:
                    results = [work(conn) for work, _alone, _future in batch]
            except Exception:
                pass  # each runs again alone below, so its own error is the one raised
            else:
                for (_work, _alone, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                return
        for work, alone, future in batch:
            try:
                result = alone() if alone is not None else None
                if result is None:
                    with write(self.db) as conn:
                        result = work(conn)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
