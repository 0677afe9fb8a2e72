"""Prometheus metrics: what the runtime counts, and what a scrape reports.

Counters and the request histogram live in each process. With several processes (``flowyard
serve --workers N``) ``PROMETHEUS_MULTIPROC_DIR`` is set before any worker imports
``prometheus_client``: each process then writes its values to files there and a scrape, on any
worker, sums every process's files (``MultiProcessCollector``). Gauges of the runtime's state
(active executions, overdue timers, the inbox) are read from the database at scrape time, so
they are the cluster's, reported once, never summed across workers.

``enable(False)`` (``FLOWYARD_METRICS=off``) makes every hook return at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import Counter, Histogram, disable_created_metrics
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from flowyard import engine
from flowyard.engine.widgets import WIDGETS
from flowyard.store.health import RuntimeGauges

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# No ``*_created`` series: they double a scrape, and multiprocess mode has none anyway.
disable_created_metrics()

EXECUTIONS_STARTED = Counter(
    "flowyard_executions_started", "Executions created (REST, inbound message or call)."
)
EXECUTIONS_ENDED = Counter(
    "flowyard_executions_ended",
    "Executions that ended, by reason (FLOW_END, ERROR, STEP_LIMIT, SAME_WIDGET_LIMIT, "
    "EXPIRED, ENDED through the API, HOST_ERROR).",
    ["reason"],
)
STEPS = Counter("flowyard_steps", "Steps committed (one per widget transition).")
WIDGET_FAILURES = Counter(
    "flowyard_widget_failures",
    "Errors recorded by sprints, by widget type (none: not a widget's) and runtime error code.",
    ["widget_type", "code"],
)
# Fetches take about a millisecond; a call's webhook may wait up to 12 s for its sprint.
REQUEST_DURATION = Histogram(
    "flowyard_http_request_duration_seconds",
    "HTTP requests by kind (api, webhook, console, health, other) and status class.",
    ["kind", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)

RETENTION_DELETED = Counter(
    "flowyard_retention_deleted",
    "Rows deleted for being older than FLOWYARD_RETENTION_DAYS, by table.",
    ["table"],
)

EVENTS_DELIVERED = Counter(
    "flowyard_events_delivered", "Event Streams events a sink took (a 2xx answer)."
)
EVENT_FAILURES = Counter(
    "flowyard_event_delivery_failures",
    "Deliveries to an Event Streams sink that failed (a request or a batch; retried).",
)

REASONS = frozenset(
    {"FLOW_END", "ERROR", "STEP_LIMIT", "SAME_WIDGET_LIMIT", "EXPIRED", "ENDED", "HOST_ERROR"}
)
_on = True
_ended = {reason: EXECUTIONS_ENDED.labels(reason) for reason in (*REASONS, "OTHER")}


def enable(on: bool) -> None:
    """Turn the runtime's hooks on or off for this process."""
    global _on
    _on = on


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


# -- hooks, called by the runtime -------------------------------------------------------------


def execution_started() -> None:
    """A new execution was stored."""
    if _on:
        EXECUTIONS_STARTED.inc()


def sprint_committed(
    flow: engine.Flow,
    before: str,
    state: engine.ExecutionState,
    steps: list[engine.Step],
    failures: list[tuple[str | None, int]],
) -> None:
    """A sprint of ``flow`` was committed: ``before`` is the execution's status before it,
    ``state`` where it left the execution, with its ``steps`` and the ``(widget, alert
    code)`` of each failure."""
    if not _on:
        return
    if steps:
        STEPS.inc(len(steps))
    for widget, code in failures:
        WIDGET_FAILURES.labels(_widget_type(flow, steps, widget), str(code)).inc()
    if before == "active" and state.status == "ended":
        _ended.get(state.ended_reason or "", _ended["OTHER"]).inc()


def retention_deleted(table: str, count: int) -> None:
    """``count`` rows of ``table`` left for being older than the retention period."""
    if _on:
        RETENTION_DELETED.labels(table).inc(count)


def events_delivered(count: int, failed: bool) -> None:
    """A delivery round to a sink: ``count`` events taken, and whether a request failed."""
    if _on:
        if count:
            EVENTS_DELIVERED.inc(count)
        if failed:
            EVENT_FAILURES.inc()


def execution_broken(before: str) -> None:
    """The host ended an execution it could not run or store (``host.BROKEN``)."""
    if _on and before == "active":
        _ended["HOST_ERROR"].inc()


def _widget_type(flow: engine.Flow, steps: list[engine.Step], widget: str | None) -> str:
    if widget is None:
        return "none"
    state = flow.states.get(widget)
    kind = state.type if state is not None else None
    if kind is None:  # a subflow's widget: its steps say what it is
        kind = next((s.widget_type for s in steps if s.transitioned_from == widget), None)
    # Only registered types: a definition's free text never becomes a label.
    return kind if kind in WIDGETS else "other"


# -- the scrape -------------------------------------------------------------------------------


class DatabaseGauges:
    """The runtime's cluster-wide gauges, as last read from the database (``update``)."""

    def __init__(self) -> None:
        self.values: RuntimeGauges | None = None
        self.now: Any = None

    def update(self, values: RuntimeGauges | None, now: Any) -> None:
        self.values, self.now = values, now

    def collect(self) -> Iterator[Metric]:
        values = self.values
        if values is None:  # the database did not answer: absent, not zero
            return
        yield GaugeMetricFamily(
            "flowyard_active_executions",
            "Executions active in the database (all processes).",
            value=values.active_executions,
        )
        yield GaugeMetricFamily(
            "flowyard_oldest_overdue_timer_seconds",
            "How long the oldest due timer (reply time-out, redirect, expiry) has waited to "
            "fire; 0 when none is due.",
            value=_age(values.oldest_due, self.now),
        )
        yield GaugeMetricFamily(
            "flowyard_inbox_waiting",
            "Resumes (replies, callbacks, ends) stored and not applied yet.",
            value=values.inbox_waiting,
        )
        yield GaugeMetricFamily(
            "flowyard_inbox_oldest_seconds",
            "How long the oldest resume in the inbox has waited; 0 when it is empty.",
            value=_age(values.oldest_waiting, self.now),
        )
        yield GaugeMetricFamily(
            "flowyard_events_waiting",
            "Event Streams events stored and not taken by their sink yet.",
            value=values.events_waiting,
        )
        yield GaugeMetricFamily(
            "flowyard_events_oldest_seconds",
            "How long the oldest event waiting for its sink has waited; 0 when none waits.",
            value=_age(values.events_oldest, self.now),
        )
        sinks = GaugeMetricFamily(
            "flowyard_event_sinks", "Event Streams sinks by status.", labels=["status"]
        )
        for status in ("initialized", "validating", "active", "failed"):
            sinks.add_metric([status], values.sinks.get(status, 0))
        yield sinks


def _age(moment: Any, now: Any) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0


class _Scrape:
    """What ``generate_latest`` reads: this process's (or every process's) metrics, then
    the database's gauges."""

    def __init__(self, sources: Iterable[Any]) -> None:
        self.sources = list(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def scrape_source(gauges: DatabaseGauges) -> _Scrape:
    """Every process's files in multiprocess mode, else this process's default registry."""
    own = MultiProcessCollector(None) if multiprocess() else REGISTRY
    return _Scrape([own, gauges])


def render(source: _Scrape) -> bytes:
    """The Prometheus text exposition of ``source``."""
    return generate_latest(source)  # type: ignore[arg-type]


def process_exiting() -> None:
    """Drop this process's live gauges from the shared directory (its counters stay)."""
    if multiprocess():
        mark_process_dead(os.getpid())
