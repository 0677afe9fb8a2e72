"""The runtime's host side: drive an execution while holding its lease, apply what waits in
its inbox in arrival order, commit each sprint, sweep for timers and orphaned executions.

A *drive* takes the execution's lease (``store.inbox.claim``: the database decides between
processes and nodes), applies every waiting resume, each sprint committed with its steps,
records and the resume's removal from the inbox, if and only if the lease is still held; the
last commit gives the lease back and says whether more arrived meanwhile. Nothing leaves the
process (message, call, HTTP) before its execution is held. A holder that dies stops renewing
its lease; the sweeper of another process takes the execution over once the lease ran out
and applies what is still in the inbox, repeating at most the external calls of the sprint
that was cut short. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable, Coroutine
from contextlib import suppress
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
import orjson
import sqlalchemy as sa

from flowyard import engine
from flowyard.config import Settings
from flowyard.platform import Platform
from flowyard.service import alerts, inputs, metrics
from flowyard.service.events import Subscribers
from flowyard.service.flow_cache import FlowCache
from flowyard.service.inputs import Item
from flowyard.service.persistence import (
    commit_sprint,
    row_values,
    sprint_plan,
    step_rows,
)
from flowyard.service.services import ServiceCalls
from flowyard.store import executions as store
from flowyard.store import inbox as inbox_store
from flowyard.store import receipts, write, write_alone
from flowyard.store.clock import precise_now, utcnow
from flowyard.store.db import Busy, write_if_free
from flowyard.store.group import GroupCommit

log = logging.getLogger("flowyard.runtime")
T = TypeVar("T")

# Errors of the database itself: the sprint is retried later (by this process or another);
# any other exception while applying a resume would fail again, so it ends the execution.
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)
UNSTORABLE = (sa.exc.DataError, sa.exc.IntegrityError)
# What an execution that cannot go on is left with.
BROKEN = {"status": "ended", "active_contact": None, "waiting_for": None, "wake_at": None}


class LeaseLost(Exception):
    """Another process took the execution over (this one stalled past its lease)."""


class Host:
    """Drives executions; ``Runtime`` adds what accepts triggers and resumes."""

    def __init__(
        self, db: sa.Engine, settings: Settings, platform: Platform, http: httpx.AsyncClient
    ) -> None:
        self.db = db
        self.settings = settings
        self.platform = platform
        self.services = ServiceCalls(db, settings, platform, http, self.write)
        self.flows = FlowCache(db, lifetime=settings.execution_lifetime)
        self.group = GroupCommit(db)
        # New executions are what a request waits for: on PostgreSQL they are written beside
        # the sprints' batches rather than behind them. SQLite has one writer at a time.
        self.starts = self.group if db.dialect.name == "sqlite" else GroupCommit(db)
        self.subscribers = Subscribers(db)  # Event Streams: who listens, per account
        # Unique per process start: a restarted process does not inherit its old leases.
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: set[str] = set()  # executions this process drives right now
        self._applied: dict[int, asyncio.Event] = {}  # resumes a request here waits for
        self._stopping = False
        # When the sweeper last completed a pass (loop time): /readyz reads it.
        self.swept_at: float | None = None

    def environment(self, account_sid: str) -> engine.Environment:
        return self.flows.environment(account_sid)

    def _lease(self) -> tuple[Any, Any]:
        now = precise_now()
        return now, now + timedelta(seconds=self.settings.lease_seconds)

    # -- driving: applying resumes under the lease -------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` in the background; shutdown waits for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # What it held is back in the inbox: the sweeper tries again.
            log.error("drive failed", exc_info=task.exception())

    async def write(self, change: Callable[..., T], *args: Any) -> T:
        """``change(conn, *args)`` committed in a transaction that never waits on the event
        loop: such a write may wait for a lock another process (or this one's commit
        thread) holds, and on the loop it would hold every request meanwhile. On
        PostgreSQL it runs in a thread, where a wait for one row holds nothing else. On
        SQLite it runs at once if the write lock is free, else it joins this process's one
        writer (the sprints' group commit): a second writing thread would only wait for
        that one's lock, and handing every write to a thread cost a third of the replies'
        throughput."""
        if self.db.dialect.name == "sqlite":
            with suppress(Busy):
                return write_if_free(self.db, change, *args)
            return await self.group.run(lambda conn: change(conn, *args))
        return await asyncio.to_thread(write_alone, self.db, change, *args)

    async def drive(self, sid: str, row: Any = None, items: list[Item] | None = None) -> None:
        """Apply everything waiting for ``sid`` while holding its lease. ``row`` given: this
        process holds it already (it stored the execution), with ``items`` to apply."""
        while True:
            if row is None:
                row, items = await self.write(self._claim, sid)
                if row is None:  # held elsewhere: the holder sees what waits before it lets go
                    return
            self._held.add(sid)
            try:
                more = await self._work(row, items)
            except LeaseLost:
                log.warning("execution %s was taken over by another process", sid)
                return
            except BaseException:
                await asyncio.to_thread(self._hand_back, sid)
                raise
            finally:
                self._held.discard(sid)
            if not more:
                return
            row = items = None

    def _claim(self, conn: sa.Connection, sid: str) -> tuple[Any | None, list[Item] | None]:
        """The execution's row if this process could take it, with what waits for it."""
        now, until = self._lease()
        row = inbox_store.claim(conn, sid, self.owner, now, until)
        if row is None:
            return None, None
        return row, [Item.from_row(r) for r in inbox_store.pending(conn, sid)]

    def _hand_back(self, sid: str) -> None:
        """Release after a failure: what was not committed stays in the inbox for later."""
        try:
            with write(self.db) as conn:
                inbox_store.release(conn, sid, self.owner)
        except Exception:  # the lease runs out by itself
            log.exception("could not release execution %s", sid)

    async def _work(self, row: Any, items: list[Item]) -> bool:
        """Apply ``items`` and a due timer, in arrival order; the last commit releases the
        lease. Whether more arrived meanwhile."""
        sid = row.sid
        if row.wake_at is not None and row.wake_at <= utcnow() and row.status == "active":
            # The timer went off before anything that arrived after it.
            at = next((i for i, it in enumerate(items) if it.date and it.date > row.wake_at), None)
            items.insert(len(items) if at is None else at, Item(inputs.TIMER, date=row.wake_at))
        if not items:
            return await self.write(inbox_store.release, sid, self.owner)
        pull_back = False
        more = False
        for index, item in enumerate(items):
            if index:
                await asyncio.sleep(0)  # other requests are served between sprints
            row, more, moved = await self._apply(row, item, release=index == len(items) - 1)
            pull_back = pull_back or moved
        if pull_back:
            # Nobody is fetching TwiML right now: tell the call where to go next (after the
            # lease: the Calls API may take a while, and the sprint is committed).
            await self.services.pull_back(
                row.account_sid, row.flow_sid, sid, ended=row.status != "active"
            )
        if row.status != "active" and self.platform.name != "local":
            # Locally a webhook is only a record, and the flow webhook ignores an ended one.
            await self.services.release_conversations(row.account_sid, sid)
        return more

    async def _apply(self, row: Any, item: Item, *, release: bool) -> tuple[Any, bool, bool]:
        """One resume: its sprint, committed. The row after it, whether more waits (when
        ``release``), and whether a live call must be told the execution moved on."""
        decision = inputs.decide(row, item, utcnow())
        if decision.action == "restart":
            return (*await self._restart(row, item, release=release), False)
        flow = self.flows.load(row.flow_sid, row.flow_revision)
        if decision.action == "ignore" or flow is None:
            log.info("%s for %s ignored: %s", item.kind, row.sid, decision.reason or "no flow")
            return (*await self._commit(row, item, {}, [], [], release=release), False)
        env = self.environment(row.account_sid)
        try:
            if decision.action == inputs.START:
                sprint = engine.start(flow, decision.input, env, execution_sid=row.sid)
            else:
                state = engine.ExecutionState.from_json(
                    {**orjson.loads(row.engine_state), "context": orjson.loads(row.context)}
                )
                if decision.action == inputs.END:
                    sprint = engine.end(flow, state, env)
                else:
                    sprint = engine.resume(flow, state, decision.input, env)
            base = sprint.base_context  # set by start only: later sprints of _complete lack it
            sprint, steps, records, problems = await self.services.complete(
                flow, sprint, row.account_sid, env, live=decision.live
            )
        except (asyncio.CancelledError, *TRANSIENT):
            raise
        except Exception as exc:
            log.exception("%s for %s failed; the execution ends", item.kind, row.sid)
            return (*await self._break(row, item, f"{item.kind} failed: {exc!r}", release), False)
        values = row_values(sprint)
        if base is not None:
            values["base_context"] = orjson.dumps(base).decode()
        raised = alerts.from_problems(problems, row.account_sid, row.flow_sid, row.sid)
        records.extend(("alert", alert) for alert in raised)
        try:
            saved, more = await self._commit(row, item, values, steps, records, release=release)
        except UNSTORABLE as exc:
            # A value the database refuses (a string over a column's size, say): retrying
            # would fail the same way, so the execution ends where its last commit left it.
            log.exception(
                "what %s did for %s cannot be stored; the execution ends", item.kind, row.sid
            )
            reason = f"what {item.kind} did cannot be stored: {type(exc.orig).__name__}"
            return (*await self._break(row, item, reason, release), False)
        alerts.log_rows(raised)
        metrics.sprint_committed(flow, row.status, sprint.state, steps, alerts.failures(problems))
        # Only an execution that has a call can have left it behind: one a call started, or
        # whose flow places calls (looked for only when the call did not ask itself).
        moved = not decision.live and decision.action != inputs.START
        if moved:
            moved = (row.initiated_by or "").startswith("CA") or flow.may_place_calls()
        return saved, more, moved

    async def _break(self, row: Any, item: Item, reason: str, release: bool) -> tuple[Any, bool]:
        """End an execution that cannot go on, with an alert saying why."""
        alert = alerts.broken(row.account_sid, row.flow_sid, row.sid, reason)
        done = await self._commit(row, item, BROKEN, [], [("alert", alert)], release=release)
        alerts.log_rows([alert])
        return done

    async def _commit(
        self,
        row: Any,
        item: Item,
        values: dict[str, Any],
        steps: list[engine.Step],
        records: list[tuple[str, dict[str, Any]]],
        release: bool,
    ) -> tuple[Any, bool]:
        """The sprint's outcome, its steps and records, and the resume taken out of the
        inbox, in one transaction (shared with other executions' commits of this moment), if
        this process still holds the execution."""

        rows = step_rows(steps, row.account_sid, row.flow_sid, row.sid)
        records = self.subscribers.add(row, item.kind == inputs.START, values, rows, records)
        sprint = {
            "sid": row.sid,
            "owner": self.owner,
            "values": values,
            "release": release,
            "steps": rows,
            "records": records,
            "item_id": item.id,
        }
        saved, more = await self.group.run(
            partial(commit_sprint, **sprint), partial(sprint_plan, self.db, **sprint)
        )
        if saved is None:
            raise LeaseLost(row.sid)
        if values is BROKEN:
            metrics.execution_broken(row.status)
        if item.id is not None and item.id in self._applied:
            self._applied[item.id].set()
        return saved, more

    async def _restart(self, row: Any, item: Item, *, release: bool) -> tuple[Any, bool]:
        """A reply whose execution ended before its turn: the contact's next message."""
        saved, more, target = await self.write(self._route_again, row, item, release)
        if saved is None:
            raise LeaseLost(row.sid)
        if target is not None:
            self.spawn(self.drive(*target))
        return saved, more

    def _route_again(
        self, conn: sa.Connection, row: Any, item: Item, release: bool
    ) -> tuple[Any, bool, tuple[str, Any, list[Item] | None] | None]:
        saved = store.save_leased(conn, row.sid, self.owner, {}, release=release)
        if saved is None:
            return None, False, None
        inbox_store.take(conn, item.id)
        target = self.route_message(conn, row.account_sid, row.flow_sid, item.payload["params"])
        return saved, release and inbox_store.has_pending(conn, row.sid), target

    def route_message(
        self, conn: sa.Connection, account_sid: str, flow_sid: str, params: dict[str, Any]
    ) -> tuple[str, Any, list[Item] | None] | None:
        raise NotImplementedError  # Runtime.route_message

    # -- waiting for what a drive did ------------------------------------------------------

    async def wait_applied(self, sid: str, item_id: int, timeout: float) -> Any:
        """Wait until the resume ``item_id`` of ``sid`` was applied (here or on another
        process), or ``timeout`` seconds; the execution's row then."""
        event = self._applied.setdefault(item_id, asyncio.Event())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                # Applied here: the event says so at once; elsewhere: the inbox row is gone.
                with self.db.connect() as conn:
                    if not inbox_store.is_waiting(conn, item_id):
                        return store.get_execution_by_sid(conn, sid)
                left = deadline - loop.time()
                if left <= 0:
                    log.warning("resume %s of %s not applied within %.1f s", item_id, sid, timeout)
                    with self.db.connect() as conn:
                        return store.get_execution_by_sid(conn, sid)
                with suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(left, 0.05))
        finally:
            self._applied.pop(item_id, None)

    async def settle(self, sid: str, timeout: float = 10.0) -> Any:
        """Wait until nothing is waiting for ``sid`` and nobody holds it (the console and
        in-process callers that show what a flow did); its row."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self.db.connect() as conn:
                row = store.get_execution_by_sid(conn, sid)
                busy = row is not None and (
                    row.lease_owner is not None or inbox_store.has_pending(conn, sid)
                )
            if not busy or loop.time() >= deadline:
                return row
            await asyncio.sleep(0.01)

    # -- the sweeper: timers, taken-over executions, heartbeats -----------------------------

    async def run_sweeper(self, interval: float) -> None:
        """Started with the app: renew this process's leases, and drive every execution with
        a due timer or waiting resumes that nobody holds (a dead holder's, after its lease)."""
        loop = asyncio.get_running_loop()
        beat = max(0.2, self.settings.lease_seconds / 3)
        next_beat = next_prune = loop.time()
        while not self._stopping:
            try:
                held = sorted(self._held) if self._held and loop.time() >= next_beat else []
                prune = loop.time() >= next_prune
                # In a thread: these queries (a renewal of hundreds of leases, say) would hold
                # every request of the process while they wait for the database.
                due = await asyncio.to_thread(self._sweep, held, prune)
                if held:
                    next_beat = loop.time() + beat
                if prune:
                    next_prune = loop.time() + 3600
                for sid in due:
                    if sid not in self._held:
                        self.spawn(self.drive(sid))
                self.swept_at = loop.time()
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(interval)

    def _sweep(self, held: list[str], prune: bool) -> list[str]:
        """Renew the leases of ``held``, prune old webhook receipts (``prune``); the
        executions to drive."""
        if held:
            _now, until = self._lease()
            with write(self.db) as conn:
                inbox_store.renew(conn, self.owner, held, until)
        with self.db.connect() as conn:
            due = inbox_store.runnable(conn, precise_now(), 100)
        if prune:
            with write(self.db) as conn:
                receipts.prune(conn, utcnow() - timedelta(days=1))
        return due

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop taking work, let sprints in flight finish (up to ``grace`` seconds), cancel the
        rest, and hand every lease back so another process continues at once."""
        self._stopping = True
        tasks = list(self._tasks)
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await asyncio.to_thread(write_alone, self.db, inbox_store.release_all, self.owner)
        self.group.close()
        if self.starts is not self.group:
            self.starts.close()
