"""``/metrics`` of ``flowyard serve --workers 2`` after a scripted run: every scrape, whichever
worker answers it, adds up what both processes counted; and ``/readyz`` on a real server."""

from __future__ import annotations

import concurrent.futures
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import (
    BACKENDS,
    POSTGRES_ADMIN_URL,
    Server,
    _database_url,
    _drop_database,
    free_port,
    start_server,
)
from tests.e2e.helpers import inbound_sms, post_signed, wait_for, webhook_url
from tests.e2e.test_runtime import NUMBER, ask_flow, stop
from tests.flows import flow, go, state

QUICK, FAILING, ENDED_BY_API = 6, 4, 2


@pytest.fixture(params=BACKENDS)
def two_workers(request, tmp_path) -> Iterator[tuple[Server, Path]]:
    """``flowyard serve --workers 2``, and the directory its workers write metrics to."""
    database_url, name = _database_url(request.param, tmp_path)
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"left by an earlier run")  # must be cleared
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    server, proc = start_server(database_url, request.param, env, workers=2)
    try:
        # start_server returns once one worker answers: wait for the other's metric files.
        wait_for(lambda: len(list(shared.glob("counter_*.db"))) == 2, timeout=60)
        wait_for(lambda: httpx.get(server.base_url + "/readyz").status_code == 200)
        yield server, shared
    finally:
        stop(proc)
        if name:
            _drop_database(name)


def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One scrape on a fresh connection (so on either worker): {(sample, labels): value}."""
    response = httpx.get(server.base_url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name`` over the samples carrying ``labels``."""
    return sum(
        value
        for (sample, got), value in samples.items()
        if sample == name and set(labels.items()) <= set(got)
    )


def started_per_process(shared: Path, tmp_path: Path) -> list[float]:
    """``flowyard_executions_started_total`` as each worker's own file has it."""
    counts = []
    for index, path in enumerate(sorted(shared.glob("counter_*.db"))):
        alone = tmp_path / f"alone{index}"
        alone.mkdir(parents=True)
        shutil.copy(path, alone)
        for family in MultiProcessCollector(None, path=str(alone)).collect():
            for sample in family.samples:
                if sample.name == "flowyard_executions_started_total":
                    counts.append(sample.value)
    return counts


def test_counters_add_up_across_two_workers(two_workers, tmp_path):
    server, shared = two_workers
    closed = free_port()  # nothing listens there: the HTTP Request widget fails
    client = server.client()
    flows = client.studio.v2.flows
    quick = flows.create(friendly_name="quick", status="published", definition=flow()).sid
    failing = flows.create(
        friendly_name="failing",
        status="published",
        definition=flow(
            state(
                "call",
                "make-http-request",
                [go("success"), go("failed")],
                method="GET",
                url=f"http://127.0.0.1:{closed}/",
                content_type="application/json",
            ),
            rest="call",
        ),
    ).sid
    asking = flows.create(friendly_name="ask", status="published", definition=ask_flow()).sid
    api_requests = 3

    def create(flow_sid: str, contact: str) -> tuple[str, str]:
        # A client (so a connection) per execution: the workers share the listening socket.
        sid = server.client().studio.v2.flows(flow_sid).executions.create(to=contact, from_=NUMBER)
        return flow_sid, sid.sid

    jobs = [(quick, f"+1555400{i:04d}") for i in range(QUICK - 1)]
    jobs += [(failing, f"+1555500{i:04d}") for i in range(FAILING)]
    jobs += [(asking, f"+1555600{i:04d}") for i in range(ENDED_BY_API)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        created = list(pool.map(lambda job: create(*job), jobs))
        # Which worker accepts a connection is the kernel's choice: start a few more
        # quick ones until each worker has started some, so the sums below are of both.
        for batch in range(30):
            if min(started_per_process(shared, tmp_path / f"spread{batch}"), default=0):
                break
            more = [(quick, f"+1555700{batch:02d}{i:02d}") for i in range(4)]
            created += pool.map(lambda job: create(*job), more)
            jobs += more
    api_requests += len(jobs)
    quick_total = sum(flow_sid == quick for flow_sid, _sid in created) + 1  # and the webhook's
    # The webhook: an inbound message starts one more quick execution.
    sms = inbound_sms("+15554009999", NUMBER, "hi", server.account_sid)
    url = webhook_url(server.base_url, server.account_sid, quick)
    assert post_signed(url, server.auth_token, sms).status_code == 200
    by_message = {e.sid for e in flows(quick).executions.list()} - {sid for _f, sid in created}
    assert len(by_message) == 1
    created.append((quick, by_message.pop()))
    api_requests += 1

    for flow_sid, sid in [c for c in created if c[0] == asking]:  # they wait for a reply
        wait_for(lambda f=flow_sid, s=sid: flows(f).executions(s).steps.list(limit=1), 60)
        assert flows(flow_sid).executions(sid).update(status="ended").status == "ended"
    for flow_sid, sid in created:
        wait_for(lambda f=flow_sid, s=sid: flows(f).executions(s).fetch().status == "ended", 60)
    steps = 0
    for flow_sid, sid in created:
        steps += len(flows(flow_sid).executions(sid).steps.list())
        api_requests += 1

    everything = quick_total + FAILING + ENDED_BY_API

    def counted() -> bool:  # a sprint's counters move just after its commit, which a fetch sees
        samples = scrape(server)
        ended = total(samples, "flowyard_executions_ended_total")
        return ended == everything and total(samples, "flowyard_steps_total") == steps

    wait_for(counted, 60)
    for _ in range(8):  # each scrape may be answered by either worker: all must agree
        samples = scrape(server)
        assert total(samples, "flowyard_executions_started_total") == everything
        ended = "flowyard_executions_ended_total"
        assert total(samples, ended, reason="FLOW_END") == quick_total + FAILING
        assert total(samples, ended, reason="ENDED") == ENDED_BY_API
        assert total(samples, ended) == everything
        failures = "flowyard_widget_failures_total"
        assert total(samples, failures, widget_type="make-http-request", code="11200") == FAILING
        assert total(samples, failures) == FAILING
        assert total(samples, "flowyard_steps_total") == steps
        requests = "flowyard_http_request_duration_seconds_count"
        assert total(samples, requests, kind="api") >= api_requests
        assert total(samples, requests, kind="webhook") >= 1
        assert total(samples, "flowyard_active_executions") == 0
        assert total(samples, "flowyard_inbox_waiting") == 0
        assert total(samples, "flowyard_oldest_overdue_timer_seconds") == 0
    per_process = started_per_process(shared, tmp_path / "end")
    assert len(per_process) == 2 and min(per_process) > 0, per_process
    assert sum(per_process) == everything


def test_health_without_credentials(two_workers):
    server, _shared = two_workers
    # A worker is ready once its sweeper completed a pass: the one that started last may not
    # have yet when the server first answers.
    ready = server.base_url + "/readyz"
    wait_for(lambda: all(httpx.get(ready).status_code == 200 for _ in range(8)))
    for _ in range(4):
        assert httpx.get(server.base_url + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(server.base_url + "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "sweeper": "ok"}


@pytest.fixture
def postgres_server(tmp_path) -> Iterator[tuple[Server, str]]:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among FLOWYARD_TEST_BACKENDS")
    database_url, name = _database_url("postgresql", tmp_path)
    server, proc = start_server(database_url, "postgresql")
    try:
        yield server, name
    finally:
        stop(proc)
        _drop_database(name)


def _allow_connections(name: str, allow: bool) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:  # and cut the ones the server holds
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def test_readyz_fails_while_the_database_is_unreachable(postgres_server):
    server, name = postgres_server
    assert httpx.get(server.base_url + "/readyz").status_code == 200
    _allow_connections(name, False)
    try:
        started = time.monotonic()
        ready = wait_for(
            lambda: (
                (r := httpx.get(server.base_url + "/readyz", timeout=10)).status_code == 503 and r
            )
        )
        assert time.monotonic() - started < 10
        assert "database" in ready.json()["failed"], ready.text
        assert ready.json()["status"] == "unavailable"
        # The process itself still answers.
        assert httpx.get(server.base_url + "/healthz").status_code == 200
    finally:
        _allow_connections(name, True)
    wait_for(lambda: httpx.get(server.base_url + "/readyz", timeout=10).status_code == 200)
