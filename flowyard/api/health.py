"""``/healthz``, ``/readyz`` and ``/metrics``: unauthenticated, cheap, outside /v1 and /v2.

``/healthz`` says the process answers (no database). ``/readyz`` says it can do its work:
the database answers within ``TIMEOUT`` and is at the migration this code expects, and the
sweeper (timers, taken-over executions, lease renewals) completed a pass recently. Database
reads run in a thread of their own, bounded in time: a database that hangs fails the probe
instead of hanging it, and a read still stuck fails the next probes at once rather than
piling up threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.responses import JSON
from flowyard.service import metrics
from flowyard.store import health as store
from flowyard.store.clock import precise_now

log = logging.getLogger("flowyard.health")

T = TypeVar("T")
TIMEOUT = 2.0
# Scrapers polling often (or many of them) read the database at most this often.
GAUGES_MAX_AGE = 1.0


class BoundedReads:
    """Blocking database reads on one thread, each awaited for at most ``timeout`` s."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self._thread: ThreadPoolExecutor | None = None
        self._stuck: Future[Any] | None = None

    async def run(self, read: Callable[[], T]) -> T:
        if self._stuck is not None:
            if not self._stuck.done():
                raise TimeoutError("an earlier database read has not returned yet")
            self._stuck = None
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="flowyard-health")
        future = self._thread.submit(read)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            self._stuck = future
            raise

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)
            self._thread = self._stuck = None


class Health:
    """What the three endpoints share: the database, its bounded reads, the gauges' cache."""

    def __init__(self, db: sa.Engine, timer_interval: float) -> None:
        self.db = db
        self.reads = BoundedReads()
        # The sweeper passes every interval; missing several means it is stuck or dead.
        self.sweeper_stale = max(5 * timer_interval, 5.0)
        self.gauges = metrics.DatabaseGauges()
        self.scrape = metrics.scrape_source(self.gauges)
        self._gauges_read = -GAUGES_MAX_AGE
        self._gauges_lock = asyncio.Lock()

    def _revision(self) -> str | None:
        with self.db.connect() as conn:
            return store.schema_revision(conn)

    async def check_database(self) -> str | None:
        """None when the database answers at the expected migration, else what is wrong."""
        try:
            revision = await self.reads.run(self._revision)
        except TimeoutError:
            return f"database did not answer within {self.reads.timeout:g} s"
        except Exception as exc:
            log.warning("readiness: database unreachable: %s", exc)
            return "database unreachable"
        head = store.head_revision()
        if revision != head:
            return f"database at migration {revision}, this code expects {head}"
        return None

    def check_sweeper(self, app: Any) -> str | None:
        task: asyncio.Task[Any] | None = getattr(app.state, "sweeper", None)
        runtime = getattr(app.state, "runtime", None)
        if task is None or runtime is None:
            return "sweeper not started"
        if task.done():
            return "sweeper stopped"
        if runtime.swept_at is None:
            return "sweeper has not completed a pass yet"
        age = asyncio.get_running_loop().time() - runtime.swept_at
        if age > self.sweeper_stale:
            return f"sweeper last completed a pass {age:.0f} s ago"
        return None

    def _read_gauges(self) -> store.RuntimeGauges:
        with self.db.connect() as conn:
            return store.runtime_gauges(conn, precise_now())

    async def refresh_gauges(self) -> None:
        async with self._gauges_lock:  # concurrent scrapes share one read
            if time.monotonic() - self._gauges_read < GAUGES_MAX_AGE:
                return
            try:
                values = await self.reads.run(self._read_gauges)
            except Exception as exc:  # reported absent; the counters still go out
                log.warning("metrics: database gauges not read: %s", exc)
                values = None
            self.gauges.update(values, precise_now())
            self._gauges_read = time.monotonic()


async def healthz(_request: Request) -> Response:
    return JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    health: Health = request.app.state.health
    checks = {
        "database": await health.check_database(),
        "sweeper": health.check_sweeper(request.app),
    }
    failed = [name for name, problem in checks.items() if problem is not None]
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    if failed:
        body["failed"] = failed
    return JSON(body, 503 if failed else 200, headers={"Cache-Control": "no-store"})


async def metrics_endpoint(request: Request) -> Response:
    health: Health = request.app.state.health
    await health.refresh_gauges()
    return Response(metrics.render(health.scrape), media_type=CONTENT_TYPE_LATEST)


def routes(with_metrics: bool) -> list[Route]:
    """The probes, and ``/metrics`` unless metrics are off."""
    found = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
    if with_metrics:
        found.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    return found
