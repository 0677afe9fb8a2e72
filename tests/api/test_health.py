"""``/healthz``, ``/readyz`` and ``/metrics`` in process: each readiness check failing on its
own, bounded database reads, ``FLOWYARD_METRICS=off``, and the metric hooks' labels."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from flowyard import engine
from flowyard.api.access_log import AccessLog
from flowyard.api.app import create_app
from flowyard.api.health import BoundedReads
from flowyard.api.timing import request_kind
from flowyard.cli import serve
from flowyard.config import Settings
from flowyard.service import metrics
from flowyard.store import create_db_engine, migrate
from flowyard.testing.mocks import run_sync

Scenario = Callable[[Any, httpx.AsyncClient], Awaitable[None]]


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'health.db'}"
    db = create_db_engine(url)
    migrate(db)
    db.dispose()
    return url


def run_app(url: str, scenario: Scenario, **settings: Any) -> None:
    """Run ``scenario(app, http)`` against an app on ``url``, lifespan and all."""
    app = create_app(Settings(database_url=url, timer_interval=0.05, **settings))

    async def main() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                await scenario(app, http)

    try:
        run_sync(main)  # in a thread where another test left a loop running (Playwright)
    finally:
        metrics.enable(True)  # the hooks are per process: leave them as other tests expect


async def ready(http: httpx.AsyncClient) -> httpx.Response:
    for _ in range(100):  # the sweeper's first pass
        response = await http.get("/readyz")
        if response.status_code == 200:
            break
        await asyncio.sleep(0.02)
    return response


def test_healthz_and_readyz_answer_without_credentials(database):
    async def scenario(app: Any, http: httpx.AsyncClient) -> None:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        response = await ready(http)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "sweeper": "ok"},
        }

    run_app(database, scenario)


def test_readyz_names_an_unreachable_database(database, tmp_path):
    async def scenario(app: Any, http: httpx.AsyncClient) -> None:
        await ready(http)
        app.state.health.db = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
        response = await http.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["failed"] == ["database"]
        assert body["checks"]["database"] == "database unreachable"
        assert (await http.get("/healthz")).status_code == 200

    run_app(database, scenario)


def test_readyz_names_a_database_behind_the_code(database):
    db = create_db_engine(database)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
    db.dispose()

    async def scenario(app: Any, http: httpx.AsyncClient) -> None:
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert (
            "database at migration 0003, this code expects" in response.json()["checks"]["database"]
        )

    run_app(database, scenario)


def test_readyz_names_a_stopped_sweeper(database):
    async def scenario(app: Any, http: httpx.AsyncClient) -> None:
        await ready(http)
        app.state.sweeper.cancel()
        await asyncio.sleep(0)
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failed"] == ["sweeper"]
        assert response.json()["checks"]["sweeper"] == "sweeper stopped"

    run_app(database, scenario)


def test_a_read_that_hangs_fails_in_time_and_fails_the_next_at_once():
    reads = BoundedReads(timeout=0.2)
    release = threading.Event()

    async def scenario() -> None:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await reads.run(release.wait)
        assert time.monotonic() - started < 1
        with pytest.raises(TimeoutError, match="has not returned"):
            await reads.run(lambda: 1)
        release.set()
        await asyncio.sleep(0.05)
        assert await reads.run(lambda: 2) == 2  # no longer stuck

    try:
        run_sync(scenario)
    finally:
        release.set()
        reads.close()


def test_metrics_report_gauges_and_request_timing(database):
    async def scenario(app: Any, http: httpx.AsyncClient) -> None:
        await ready(http)
        await http.get("/v2/Flows")  # 401: counted all the same
        response = await http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }
        assert samples[("flowyard_active_executions", ())] == 0
        assert samples[("flowyard_oldest_overdue_timer_seconds", ())] == 0
        assert samples[("flowyard_inbox_waiting", ())] == 0
        count = "flowyard_http_request_duration_seconds_count"
        assert samples[(count, (("kind", "api"), ("status", "4xx")))] >= 1
        assert samples[(count, (("kind", "health"), ("status", "2xx")))] >= 1
        # No raw paths or SIDs among the labels.
        kinds = {dict(labels).get("kind") for (_name, labels) in samples}
        assert kinds <= {None, "api", "webhook", "console", "health", "other"}

    run_app(database, scenario)


def test_metrics_off_removes_the_endpoint_and_the_middleware(database, monkeypatch):
    monkeypatch.setenv("FLOWYARD_METRICS", "off")
    settings = Settings.from_env(database_url=database)
    assert settings.metrics is False

    async def scenario(app: Any, http: httpx.AsyncClient) -> None:
        response = await http.get("/metrics")
        assert response.status_code == 404
        assert response.json()["code"] == 20404
        assert (await http.get("/healthz")).status_code == 200
        observers = [m for m in app.user_middleware if m.cls is AccessLog]
        assert [m.kwargs["timings"] for m in observers] == [None]  # lines, no timing
        before = metrics.EXECUTIONS_STARTED._value.get()
        metrics.execution_started()  # a hook with metrics off does nothing
        assert metrics.EXECUTIONS_STARTED._value.get() == before

    run_app(database, scenario, metrics=False)


def test_request_kinds_are_few():
    assert request_kind("/v1/Accounts/AC1/Flows/FW1") == "webhook"
    assert request_kind("/v2/Flows/FW1/Executions/FN1") == "api"
    assert request_kind("/v1/Flows/FW1") == "api"
    assert request_kind("/2010-04-01/Accounts/AC1/Messages.json") == "api"
    assert request_kind("/console/flows/FW1") == "console"
    assert request_kind("/console") == "console"
    assert request_kind("/readyz") == "health"
    assert request_kind("/favicon.ico") == "other"
    assert request_kind("/consoleX") == "other"


def test_widget_failures_are_labelled_by_widget_type_and_code():
    definition = {
        "initial_state": "Trigger",
        "states": [
            {"name": "Trigger", "type": "trigger", "transitions": [], "properties": {}},
            {"name": "call", "type": "make-http-request", "transitions": [], "properties": {}},
        ],
    }
    flow = engine.Flow.from_definition(definition, flow_sid="FW1", revision=1)
    state: Any = SimpleNamespace(status="ended", ended_reason="STEP_LIMIT")
    failures = [("call", 11200), (None, 81000), ("nowhere", 81018)]  # (widget, alert code)

    def value(counter: Any, *labels: str) -> float:
        return counter.labels(*labels)._value.get()

    labels = [("make-http-request", "11200"), ("none", "81000"), ("other", "81018")]
    seen = {pair: value(metrics.WIDGET_FAILURES, *pair) for pair in labels}
    ended = value(metrics.EXECUTIONS_ENDED, "STEP_LIMIT")
    steps = metrics.STEPS._value.get()
    metrics.sprint_committed(flow, "active", state, [], failures)
    for (widget_type, code), before in seen.items():
        assert value(metrics.WIDGET_FAILURES, widget_type, code) == before + 1
    assert value(metrics.EXECUTIONS_ENDED, "STEP_LIMIT") == ended + 1
    assert metrics.STEPS._value.get() == steps
    metrics.sprint_committed(flow, "ended", state, [], [])  # not active before: not again
    assert value(metrics.EXECUTIONS_ENDED, "STEP_LIMIT") == ended + 1


def test_serve_gives_several_workers_an_empty_metrics_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(serve.MULTIPROC_ENV, raising=False)
    monkeypatch.delenv("FLOWYARD_METRICS", raising=False)
    assert serve.prepare_metrics_dir(1) is None
    assert serve.MULTIPROC_ENV not in os.environ
    made = serve.prepare_metrics_dir(2)
    assert made is not None and os.environ[serve.MULTIPROC_ENV] == made
    assert Path(made).is_dir() and not list(Path(made).iterdir())
    given = tmp_path / "given"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old")
    (given / "notes.txt").write_text("kept")
    monkeypatch.setenv(serve.MULTIPROC_ENV, str(given))
    assert serve.prepare_metrics_dir(1) == str(given)
    assert [p.name for p in given.iterdir()] == ["notes.txt"]
    monkeypatch.setenv("FLOWYARD_METRICS", "off")
    monkeypatch.delenv(serve.MULTIPROC_ENV)
    assert serve.prepare_metrics_dir(4) is None
