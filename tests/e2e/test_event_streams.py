"""Event Streams through the official SDK (``client.events``), on each backend: a webhook sink
and a subscription get a flow's execution started, each step, its alert and its end, in
order, as signed CloudEvents; nothing is lost while the sink is down, nor when the server is
killed mid-delivery (at least once: duplicates allowed); the sink life cycle (Test, Validate);
a sink that keeps failing is ``failed`` in the API and /metrics; accounts without
subscriptions write no events."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from twilio.base.exceptions import TwilioRestException

from flowyard.store import create_db_engine
from flowyard.store.tables import event_outbox
from tests import spec
from tests.conftest import BACKENDS, Server, _database_url, _drop_database, serving, start_server
from tests.e2e.helpers import wait_ended, wait_for
from tests.e2e.receiver import Receiver
from tests.flows import flow, go, state

CONTACT, NUMBER = "+15550001111", "+15559990000"
STARTED = "com.twilio.studio.flow.execution.started"
STEP = "com.twilio.studio.flow.step.ended"
ERROR = "com.twilio.error-logs.error.logged"
ENDED = "com.twilio.studio.flow.execution.ended"
ALL_TYPES = [{"type": t} for t in (STARTED, STEP, ERROR, ENDED)]
ENV = {
    "FLOWYARD_EVENTS_MAX_BACKOFF": "0.5",
    "FLOWYARD_EVENTS_FAIL_AFTER": "3",
    "FLOWYARD_LEASE_SECONDS": "2",
}
# Trigger -> fetch (fails at once: not a URL) -> Ended: two steps and an 81014 alert.
FAILING = flow(
    state(
        "fetch",
        "make-http-request",
        [go("success"), go("failed")],
        method="GET",
        content_type="application/json",
        url="not a url",
    ),
    rest="fetch",
)
CLOUD_FIELDS = {"specversion", "type", "source", "id", "dataschema", "datacontenttype", "time"}


@pytest.fixture(scope="module", params=BACKENDS)
def events_server(request, tmp_path_factory) -> Iterator[Server]:
    with serving(request.param, tmp_path_factory, ENV) as srv:
        yield srv


def _subscribe(client, receiver: Receiver, *, batch: bool = False) -> tuple[str, str]:
    config = {"destination": receiver.url, "method": "POST", "batch_events": batch}
    sink = client.events.v1.sinks.create(
        description="receiver", sink_configuration=config, sink_type="webhook"
    )
    sub = client.events.v1.subscriptions.create(
        description="studio and alerts", sink_sid=sink.sid, types=ALL_TYPES
    )
    return sink.sid, sub.sid


def _start(client, flow_sid: str, n: int = 1) -> list[str]:
    executions = client.studio.v2.flows(flow_sid).executions
    return [executions.create(to=f"{CONTACT[:-2]}{i:02d}", from_=NUMBER).sid for i in range(n)]


def _complete(receiver: Receiver, execution_sid: str, timeout: float = 30) -> list[dict]:
    return wait_for(
        lambda: (found := receiver.of_execution(execution_sid)) and len(found) >= 5 and found,
        timeout,
    )


def _assert_story(events: list[dict], account: str, flow_sid: str, execution_sid: str) -> None:
    """Started, the two steps, the fetch's alert, ended: in that order, Twilio's fields."""
    assert [e["type"] for e in events] == [STARTED, STEP, STEP, ERROR, ENDED]
    for event in events:
        assert set(event) >= CLOUD_FIELDS, event
        assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
        assert event["time"].endswith("Z")
    started, first, second, error, ended = (e["data"] for e in events)
    assert started["execution_sid"] == execution_sid and started["flow_sid"] == flow_sid
    assert started["account_sid"] == account and started["status"] == "active"
    assert started["contact_channel_address"].startswith(CONTACT[:-2])
    assert started["started_by"].startswith("RQ") and started["flow_revision"] == 1
    assert events[0]["dataschema"].endswith("/Studio.FlowExecutionEvent/2")
    assert (first["transitioned_from"], first["transitioned_to"]) == ("Trigger", "fetch")
    assert (second["transitioned_from"], second["name"]) == ("fetch", "failed")
    assert second["transitioned_to"] == "Ended" and second["step_sid"].startswith("FT")
    assert events[1]["dataschema"].endswith("/Studio.FlowStepEvent/1")
    assert error["error_code"] == "81014" and error["level"] == "ERROR"
    assert error["correlation_sid"] == execution_sid and error["sid"] == events[3]["id"]
    assert error["product_name"] == "Studio" and '"step_sid"' in error["payload"]
    assert ended["status"] == "ended" and ended["ended_reason"] == "FLOW_END"


def test_a_flow_with_a_failing_widget_reaches_the_sink_in_order(events_server):
    client = events_server.new_client()
    receiver = Receiver(client.password).start()
    try:
        _subscribe(client, receiver)
        flow_sid = client.studio.v2.flows.create(
            friendly_name="events", status="published", definition=FAILING
        ).sid
        (execution_sid,) = _start(client, flow_sid)
        wait_ended(client, flow_sid, execution_sid)
        events = _complete(receiver, execution_sid)
        _assert_story(events, client.username, flow_sid, execution_sid)
        assert all(d.valid for d in receiver.deliveries), "every delivery is signed"
        assert all("bodySHA256=" in d.url for d in receiver.deliveries)
    finally:
        receiver.stop()


def test_batches_are_json_arrays_in_order(events_server):
    client = events_server.new_client()
    receiver = Receiver(client.password).start()
    try:
        _subscribe(client, receiver, batch=True)
        flow_sid = client.studio.v2.flows.create(
            friendly_name="events", status="published", definition=FAILING
        ).sid
        sids = _start(client, flow_sid, 3)
        for sid in sids:
            _assert_story(_complete(receiver, sid), client.username, flow_sid, sid)
        assert all(d.body.startswith("[") and d.valid for d in receiver.deliveries)
        assert max(len(d.events) for d in receiver.deliveries) > 1
    finally:
        receiver.stop()


def test_nothing_is_lost_while_the_sink_is_down(events_server):
    client = events_server.new_client()
    receiver = Receiver(client.password).start()
    sink_sid, _ = _subscribe(client, receiver)
    receiver.stop()
    flow_sid = client.studio.v2.flows.create(
        friendly_name="events", status="published", definition=FAILING
    ).sid
    sids = _start(client, flow_sid, 3)
    time.sleep(10)
    assert receiver.events() == []
    # Three failures in a row (FLOWYARD_EVENTS_FAIL_AFTER) mark it failed, visible at once.
    assert client.events.v1.sinks(sink_sid).fetch().status == "failed"
    receiver.start()
    try:
        for sid in sids:
            _assert_story(_complete(receiver, sid), client.username, flow_sid, sid)
        # It answers again: active, and nothing waits for it any more.
        wait_for(lambda: client.events.v1.sinks(sink_sid).fetch().status == "active", 10)
    finally:
        receiver.stop()


def test_a_failing_sink_is_failed_in_metrics(events_server):
    client = events_server.new_client()
    dead = Receiver(client.password, status=500).start()
    try:
        sink_sid, _ = _subscribe(client, dead)
        flow_sid = client.studio.v2.flows.create(
            friendly_name="events", status="published", definition=FAILING
        ).sid
        _start(client, flow_sid)
        wait_for(lambda: client.events.v1.sinks(sink_sid).fetch().status == "failed", 30)

        def failed_in_metrics() -> bool:
            text = httpx.get(events_server.base_url + "/metrics", timeout=10).text
            line = next(
                x
                for x in text.splitlines()
                if x.startswith('flowyard_event_sinks{status="failed"}')
            )
            return float(line.split()[-1]) >= 1 and "flowyard_event_delivery_failures_total" in text

        wait_for(failed_in_metrics, 15)
        # Deleting the sink drops its backlog (and its subscriptions).
        client.events.v1.sinks(sink_sid).delete()
        assert client.events.v1.subscriptions.list(sink_sid=sink_sid) == []
    finally:
        dead.stop()


def test_sink_life_cycle_test_then_validate(events_server):
    client = events_server.new_client()
    receiver = Receiver(client.password).start()
    try:
        config = {"destination": receiver.url, "method": "POST"}
        sink = client.events.v1.sinks.create(
            description="check me", sink_configuration=config, sink_type="webhook"
        )
        assert sink.status == "initialized" and sink.sink_configuration["batch_events"] is False
        assert client.events.v1.sinks(sink.sid).sink_test.create().result == "submitted"
        assert client.events.v1.sinks(sink.sid).fetch().status == "validating"
        test = wait_for(lambda: receiver.events(), 15)[0]
        assert test["type"] == "com.twilio.eventstreams.test-sink"
        assert receiver.deliveries[0].valid
        with pytest.raises(TwilioRestException) as wrong:
            client.events.v1.sinks(sink.sid).sink_validate.create(test_id="EV" + "0" * 32)
        assert wrong.value.status == 400 and wrong.value.code == 20001
        valid = client.events.v1.sinks(sink.sid).sink_validate.create(test_id=test["id"])
        assert valid.result == "valid"
        assert client.events.v1.sinks(sink.sid).fetch().status == "active"
        updated = client.events.v1.sinks(sink.sid).update(description="renamed")
        assert updated.description == "renamed"
        assert [s.sid for s in client.events.v1.sinks.list(status="active")] == [sink.sid]
    finally:
        receiver.stop()


def test_subscriptions_and_types_through_the_sdk(events_server):
    client = events_server.new_client()
    sink = client.events.v1.sinks.create(
        description="s",
        sink_configuration={"destination": "http://127.0.0.1:9/x"},
        sink_type="webhook",
    )
    sub = client.events.v1.subscriptions.create(
        description="d", sink_sid=sink.sid, types=[{"type": STARTED, "schema_version": 1}]
    )
    subscribed = client.events.v1.subscriptions(sub.sid).subscribed_events
    subscribed.create(type=ERROR)
    assert sorted(t.type for t in subscribed.list()) == [ERROR, STARTED]
    assert subscribed(STARTED).fetch().schema_version == 1
    assert subscribed(STARTED).update(schema_version=2).schema_version == 2
    subscribed(ERROR).delete()
    assert [t.type for t in subscribed.list()] == [STARTED]
    assert client.events.v1.subscriptions(sub.sid).update(description="e").description == "e"
    assert [s.sid for s in client.events.v1.subscriptions.list(sink_sid=sink.sid)] == [sub.sid]
    types = {t.type for t in client.events.v1.event_types.list()}
    assert types == {STARTED, STEP, ERROR, ENDED}
    assert client.events.v1.event_types(STEP).fetch().schema_id == "Studio.FlowStepEvent"
    client.events.v1.subscriptions(sub.sid).delete()
    assert client.events.v1.subscriptions.list() == []


def test_responses_match_the_events_spec(events_server):
    client = events_server.new_client()
    http = httpx.Client(base_url=events_server.base_url, auth=(client.username, client.password))
    config = '{"destination": "https://example.org/hook", "batch_events": true}'
    created = spec.check(
        http.post(
            "/v1/Sinks",
            data={"Description": "d", "SinkType": "webhook", "SinkConfiguration": config},
        ),
        "/v1/Sinks",
    )
    sid = created["sid"]
    spec.check(http.get("/v1/Sinks", params={"PageSize": 1}), "/v1/Sinks")
    spec.check(http.get(f"/v1/Sinks/{sid}"), "/v1/Sinks/{Sid}")
    spec.check(http.post(f"/v1/Sinks/{sid}/Test"), "/v1/Sinks/{Sid}/Test")
    sub = spec.check(
        http.post(
            "/v1/Subscriptions",
            data={"Description": "d", "SinkSid": sid, "Types": f'{{"type": "{ENDED}"}}'},
        ),
        "/v1/Subscriptions",
    )
    spec.check(http.get("/v1/Subscriptions"), "/v1/Subscriptions")
    spec.check(http.get(f"/v1/Subscriptions/{sub['sid']}"), "/v1/Subscriptions/{Sid}")
    events_path = "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents"
    spec.check(http.get(f"/v1/Subscriptions/{sub['sid']}/SubscribedEvents"), events_path)
    spec.check(
        http.get(f"/v1/Subscriptions/{sub['sid']}/SubscribedEvents/{ENDED}"),
        events_path + "/{Type}",
    )
    page = spec.check(http.get("/v1/Types", params={"PageSize": 2}), "/v1/Types")
    assert page["meta"]["next_page_url"]
    spec.check(http.get(page["meta"]["next_page_url"]), "/v1/Types")
    spec.check(http.get(f"/v1/Types/{STEP}"), "/v1/Types/{Type}")
    spec.check(http.delete(f"/v1/Sinks/{sid}"), "/v1/Sinks/{Sid}")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"SinkType": "kinesis", "SinkConfiguration": "{}"}, "SinkType"),
        ({"SinkType": "webhook", "SinkConfiguration": "not json"}, "SinkConfiguration"),
        (
            {"SinkType": "webhook", "SinkConfiguration": '{"destination": "ftp://x/"}'},
            "SinkConfiguration",
        ),
        (
            {
                "SinkType": "webhook",
                "SinkConfiguration": '{"destination": "http://x/", "method": "PUT"}',
            },
            "SinkConfiguration",
        ),
        ({"SinkType": "webhook"}, "SinkConfiguration"),
    ],
)
def test_bad_sinks_are_refused_precisely(events_server, data, field):
    http = events_server.http()
    response = http.post("/v1/Sinks", data={"Description": "d", **data})
    assert response.status_code == 400
    assert response.json()["code"] in (20001, 21201) and field in response.json()["message"]


def test_bad_subscriptions_are_refused_precisely(events_server):
    http = events_server.http()
    sink = http.post(
        "/v1/Sinks",
        data={
            "Description": "d",
            "SinkType": "webhook",
            "SinkConfiguration": '{"destination": "http://x/"}',
        },
    ).json()
    for data, field in [
        ({"SinkSid": sink["sid"], "Types": '{"type": "com.example.nope"}'}, "Types"),
        ({"SinkSid": "DG" + "0" * 32, "Types": f'{{"type": "{ENDED}"}}'}, "SinkSid"),
        ({"SinkSid": sink["sid"]}, "Types"),
    ]:
        response = http.post("/v1/Subscriptions", data={"Description": "d", **data})
        assert response.status_code == 400, data
        assert field in response.json()["message"]
    assert http.get("/v1/Sinks/DGnope").status_code == 404
    assert http.get("/v1/Types/com.example.nope").status_code == 404


def test_accounts_without_subscriptions_write_no_events(events_server):
    client = events_server.new_client()
    flow_sid = client.studio.v2.flows.create(
        friendly_name="quiet", status="published", definition=FAILING
    ).sid
    (sid,) = _start(client, flow_sid)
    wait_ended(client, flow_sid, sid)
    db = create_db_engine(events_server.database_url)
    try:
        with db.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).where(event_outbox.c.account_sid == client.username)
            ).scalar()
    finally:
        db.dispose()
    assert count == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_mid_delivery_loses_nothing(backend, tmp_path):
    database_url, pg_name = _database_url(backend, tmp_path)
    server, proc = start_server(database_url, backend, ENV)
    try:
        client = server.client()
        receiver = Receiver(server.auth_token, delay=0.3).start()  # slow: delivery takes a while
        _subscribe(client, receiver)
        flow_sid = client.studio.v2.flows.create(
            friendly_name="events", status="published", definition=FAILING
        ).sid
        sids = _start(client, flow_sid, 6)
        wait_for(lambda: len(receiver.events()) >= 3, 30)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        delivered_before = len(receiver.events())
        assert delivered_before < 30, "the kill came mid-delivery"
        _restarted, proc = start_server(
            database_url,
            backend,
            {
                **ENV,
                "FLOWYARD_ACCOUNT_SID": server.account_sid,
                "FLOWYARD_AUTH_TOKEN": server.auth_token,
            },
        )
        for sid in sids:
            _assert_story(_complete(receiver, sid, 60), server.account_sid, flow_sid, sid)
        receiver.stop()
    finally:
        proc.kill()
        proc.wait(10)
        if pg_name:
            _drop_database(pg_name)
