"""Event Streams delivery: every process posts what waits in the outbox to its webhook sink.

Each pass finds the sinks with events waiting whose claim is free and whose back-off is over,
claims each (``store.events.claim``: the database decides between processes), reads its
oldest events and posts them, in order, signed like Twilio's (``X-Twilio-Signature`` over the
URL with a ``bodySHA256`` parameter, keyed by the account's auth token). What the sink took
(a 2xx answer) is deleted; what it did not stays for the next attempt, after an exponential
back-off per sink (capped by ``FLOWYARD_EVENTS_MAX_BACKOFF``). Events of one execution go
out one after the other, never the next before the previous one was taken; different
executions go out side by side. ``FLOWYARD_EVENTS_FAIL_AFTER`` failures in a row mark the
sink ``failed``; it is still tried at the capped interval and becomes ``active`` again when
it answers. A process that dies mid-delivery leaves its claim to run out: another process
sends again what was not deleted (at least once: a receiver may see an event twice, by id).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from flowyard.config import Settings
from flowyard.platform.sink_http import SinkClient
from flowyard.service import alerts, metrics
from flowyard.service.event_lines import expand
from flowyard.service.events import Subscribers
from flowyard.store import accounts as account_store
from flowyard.store import alerts as alert_store
from flowyard.store import events as store
from flowyard.store import write
from flowyard.store.clock import precise_now, utcnow
from flowyard.store.group import GroupCommit

log = logging.getLogger("flowyard.events")

# Outbox rows (a sprint's events each) read per round. Each round costs a read, a write
# transaction and the requests: large rounds keep the first two small per event.
READ = 500
# A batch's body at most (Twilio: "batched events currently have a 64kB data limit"); an
# event larger than that goes alone.
MAX_BATCH_BYTES = 64 * 1024
IN_FLIGHT = 8  # requests at once to one sink (different executions)
TIMEOUT = 5.0  # seconds a sink has to answer (Twilio's own limit for webhook sinks)
FIRST_BACKOFF = 1.0


def signed_request(destination: str, body: bytes, token: str) -> tuple[str, dict[str, str]]:
    """The URL to post ``body`` to and its headers, signed as Twilio signs JSON webhooks: a
    ``bodySHA256`` query parameter (hex SHA-256 of the body), and ``X-Twilio-Signature``,
    the base64 HMAC-SHA1 of that whole URL keyed by the auth token. ``RequestValidator(token)
    .validate(url, body_text, signature)`` accepts it."""
    joiner = "&" if urlsplit(destination).query else "?"
    url = f"{destination}{joiner}bodySHA256={hashlib.sha256(body).hexdigest()}"
    parts = urlsplit(url)
    # Credentials in the URL become Basic auth; the receiver sees (and signs) the URL without.
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    bare = urlunsplit(parts._replace(netloc=host))
    signature = RequestValidator(token).compute_signature(bare, {})
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Signature": signature,
        "User-Agent": "Flowyard-EventStreams/1.0",
    }
    return url, headers


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def batches(rows: Sequence[Any]) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    """The events of ``rows`` in order, as JSON arrays of at most ``MAX_BATCH_BYTES``; with
    each, per row it reaches, ``(row id, events of the row taken once it is posted)``. A row
    that fits is added whole (one join, no per-event bookkeeping); the row across a limit,
    event by event."""
    texts: list[str] = []
    marks: list[tuple[int, int]] = []
    size = 2  # the brackets
    for row in rows:
        events = expand(row.event, row.account_sid, row.execution_sid, row.sent)
        whole = ",".join(events)
        length = _size(whole)
        if size + length + 1 <= MAX_BATCH_BYTES:
            texts.append(whole)
            marks.append((row.id, row.sent + len(events)))
            size += length + 1
            continue
        for taken, text in enumerate(events, row.sent + 1):
            length = _size(text)
            if texts and size + length + 1 > MAX_BATCH_BYTES:
                yield "[" + ",".join(texts) + "]", marks
                texts, marks, size = [], [], 2
            texts.append(text)
            marks.append((row.id, taken))
            size += length + 1
    if texts:
        yield "[" + ",".join(texts) + "]", marks


def backoff(failures: int, cap: float) -> float:
    """Seconds before the next attempt after ``failures`` failures in a row: doubling from one
    second, capped, with a little jitter so several sinks do not retry in step."""
    delay = min(cap, FIRST_BACKOFF * 2 ** max(0, failures - 1))
    return delay * random.uniform(0.8, 1.0)


@dataclass
class _SinkState:
    """A sink's failures in a row and status, as this claim has seen them."""

    failures: int
    status: str


class Delivery:
    """The delivery loop of one process."""

    def __init__(
        self,
        db: sa.Engine,
        http: SinkClient,
        settings: Settings,
        owner: str,
        writer: GroupCommit,
        subscribers: Subscribers | None = None,
    ) -> None:
        self.db = db
        self.writer = writer  # the runtime's group commit
        # Who listens to the alert of a failing sink (the runtime's, to share its cache).
        self.subscribers = subscribers or Subscribers(db)
        self.http = http
        self.owner = owner
        self.claim_seconds = settings.lease_seconds
        self.max_backoff = settings.events_max_backoff
        self.fail_after = settings.events_fail_after
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def run(self, interval: float) -> None:
        """Started with the app: every ``interval``, deliver to each sink that is due."""
        try:
            while True:
                try:
                    due = await asyncio.to_thread(self._due)  # off the requests' loop
                    for sid in due:
                        if sid not in self._busy:
                            self._busy.add(sid)
                            task = asyncio.get_running_loop().create_task(self.deliver(sid))
                            self._tasks.add(task)
                            task.add_done_callback(self._tasks.discard)
                except Exception:
                    log.exception("event delivery pass failed")
                await asyncio.sleep(interval)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.http.aclose()

    def _due(self) -> list[str]:
        with self.db.connect() as conn:
            return store.due_sinks(conn, precise_now())

    def _until(self) -> Any:
        return precise_now() + timedelta(seconds=self.claim_seconds)

    async def deliver(self, sid: str) -> None:
        """Send what waits for sink ``sid`` while this process holds its claim."""
        claimed = False
        try:
            now, until = precise_now(), self._until()
            sink = await self.writer.run(
                lambda conn: store.claim(conn, sid, self.owner, now, until)
            )
            if sink is None:
                return
            claimed = True
            account = await asyncio.to_thread(account_store.get_account, self.db, sink.account_sid)
            token = account.auth_token if account else None  # read per claim: rotations apply
            config = orjson.loads(sink.configuration)
            state = _SinkState(sink.failures, sink.status)
            while True:
                # Off the event loop: 500 rows are milliseconds of reading.
                rows = await asyncio.to_thread(self._pending, sid)
                if not rows or token is None:
                    break
                taken, error = await self._send(config, token, rows)
                sent = sum(taken[r.id] - r.sent for r in rows)
                was = state.status
                raised = None
                if error is None:
                    state.failures = 0
                    state.status = "active" if was == "failed" else was
                else:
                    raised = self._failed(sink, state, error)
                # The round's outcome joins the sprints' next group commit: no transaction of
                # its own, and no wait for the write lock on the event loop.
                round_ = partial(self._record, sid, rows, taken, state, was, error, sent, raised)
                if not await self.writer.run(round_):
                    claimed = False  # another process took over: it carries on
                    return
                if raised is not None:
                    alerts.log_rows([raised])
                metrics.events_delivered(sent, error is not None)
                if error is not None or len(rows) < READ:
                    # Drained: what commits meanwhile waits for the next pass, in full
                    # batches. Going round again at once would post a sprint or two per
                    # request and commit a round per request (the CPU cost of delivery).
                    break
        except Exception:
            log.exception("delivery to sink %s failed", sid)
        finally:
            self._busy.discard(sid)
            if claimed:
                try:
                    with write(self.db) as conn:
                        store.release(conn, sid, self.owner, {})
                except Exception:  # the claim runs out by itself
                    log.exception("could not release sink %s", sid)

    def _pending(self, sid: str) -> list[Any]:
        with self.db.connect() as conn:
            return store.pending(conn, sid, READ)

    def _failed(self, sink: Any, state: _SinkState, error: str) -> dict[str, Any] | None:
        """Count a failed round; the alert to raise when it makes the sink ``failed``."""
        state.failures += 1
        if state.failures < self.fail_after or state.status == "failed":
            return None
        state.status = "failed"
        log.warning("sink %s failed %d times: %s", sink.sid, state.failures, error)
        return alerts.sink_failed(sink.account_sid, sink.sid, state.failures, error)

    def _record(
        self,
        sid: str,
        rows: Sequence[Any],
        taken: dict[int, int],
        state: _SinkState,
        was: str,
        error: str | None,
        sent: int,
        raised: dict[str, Any] | None,
        conn: sa.Connection,
    ) -> bool:
        """A round's outcome in ``conn``'s transaction: what the sink took leaves the outbox,
        the sink's row is updated and its claim renewed (False: it was lost, nothing
        changed)."""
        now = utcnow()
        outcome: dict[str, Any] = {"date_updated": now}
        if state.status != was:  # only a change: Validate may have made it active meanwhile
            outcome["status"] = state.status
        if error is None:
            outcome.update(failures=0, last_error=None)
        else:
            delay = timedelta(seconds=backoff(state.failures, self.max_backoff))
            outcome.update(failures=state.failures, last_error=error, retry_at=now + delay)
        if sent:
            outcome["last_delivery"] = now
        # One UPDATE renews the claim and records the outcome; first, so that a lost claim
        # changes nothing.
        if not store.renew(conn, sid, self.owner, self._until(), outcome):
            return False
        done = [r.id for r in rows if taken[r.id] >= r.count]
        partly = {r.id: taken[r.id] for r in rows if r.sent < taken[r.id] < r.count}
        store.delivered(conn, done, partly)
        if error is not None:
            store.attempted(conn, [r.id for r in rows if taken[r.id] < r.count])
        if raised is not None:
            self._alert(conn, raised)
        return True

    def _alert(self, conn: sa.Connection, alert: dict[str, Any]) -> None:
        """A Debugger alert (and its error event for the account's sinks) in ``conn``'s
        transaction: with the status change it reports."""
        alert_store.insert_alerts(conn, [alert])
        store.insert_events(conn, self.subscribers.alert_rows(alert["account_sid"], [alert]))

    async def _send(
        self, config: dict[str, Any], token: str, rows: Sequence[Any]
    ) -> tuple[dict[int, int], str | None]:
        """Post the events of ``rows``; how many of each row's events the sink has taken
        now (by row id), and the first error (None: all taken)."""
        taken = {row.id: row.sent for row in rows}
        if config.get("batch_events"):
            for body, marks in batches(rows):
                error = await self._post(config, token, body.encode())
                if error is not None:
                    return taken, error
                taken.update(marks)  # in order: a row's last mark is what it has taken
            return taken, None
        items = [
            (row.id, row.sent + i, text)
            for row in rows
            for i, text in enumerate(
                expand(row.event, row.account_sid, row.execution_sid, row.sent)
            )
        ]
        limit = asyncio.Semaphore(IN_FLIGHT)
        errors: list[str] = []
        execution_of = {row.id: row.execution_sid or ("id", row.id) for row in rows}
        chains: dict[Any, list[tuple[int, int, str]]] = {}
        for item in items:
            chains.setdefault(execution_of[item[0]], []).append(item)

        async def chain(items: list[tuple[int, int, str]]) -> None:
            for row_id, index, text in items:  # an execution's next event waits for this one
                async with limit:
                    error = await self._post(config, token, text.encode())
                if error is not None:
                    errors.append(error)
                    return
                taken[row_id] = index + 1

        await asyncio.gather(*(chain(c) for c in chains.values()))
        return taken, errors[0] if errors else None

    async def _post(self, config: dict[str, Any], token: str, body: bytes) -> str | None:
        url, headers = signed_request(config["destination"], body, token)
        try:
            status = await self.http.request(
                config.get("method", "POST"), url, body, headers, TIMEOUT
            )
        except Exception as exc:  # refused, timed out, denied by the outbound policy...
            return f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= status < 300:
            return None
        return f"HTTP {status} from the sink"
