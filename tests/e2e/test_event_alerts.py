"""Event Streams and Debugger alerts that belong to no execution, through the official SDK on
each backend: a refused flow-webhook signature (20003) reaches subscribed sinks as
``com.twilio.error-logs.error.logged``; a sink marked ``failed`` raises an alert naming it
(Twilio's Event Streams codes, 9130x), itself an error event for the account's other sinks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from tests.conftest import BACKENDS, Server, serving
from tests.e2e.helpers import wait_for, webhook_url
from tests.e2e.receiver import Receiver
from tests.e2e.test_event_streams import ENV, ERROR, FAILING
from tests.flows import flow


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    with serving(request.param, tmp_path_factory, ENV) as srv:
        yield srv


def _sink(client, receiver: Receiver, types: list[str]) -> str:
    sink = client.events.v1.sinks.create(
        description=f"{receiver.port}",
        sink_configuration={"destination": receiver.url, "batch_events": False},
        sink_type="webhook",
    )
    client.events.v1.subscriptions.create(
        description="errors", sink_sid=sink.sid, types=[{"type": t} for t in types]
    )
    return sink.sid


def _errors(receiver: Receiver) -> list[dict]:
    return [e for e in receiver.events() if e["type"] == ERROR]


def test_a_refused_webhook_signature_reaches_the_sink(server):
    client = server.new_client()
    receiver = Receiver(client.password).start()
    try:
        _sink(client, receiver, [ERROR])
        flow_ = client.studio.v2.flows.create(
            friendly_name="signed", status="published", definition=flow()
        )
        url = webhook_url(server.base_url, client.account_sid, flow_.sid)
        refused = httpx.post(url, data={"Body": "hi"}, headers={"X-Twilio-Signature": "bm8="})
        assert refused.status_code == 403
        (alert,) = client.monitor.v1.alerts.list()
        (event,) = wait_for(lambda: _errors(receiver), 30)
        assert event["id"] == alert.sid and event["source"] == f"/v1/Alerts/{alert.sid}"
        data = event["data"]
        assert data["error_code"] == "20003" and data["level"] == "WARNING"
        assert data["correlation_sid"] is None and data["service_sid"] == flow_.sid
        assert data["product_name"] == "Studio"
        payload = json.loads(data["payload"])
        assert payload["execution_sid"] is None and payload["webhook"]["request"]["url"] == url
        assert all(d.valid for d in receiver.deliveries)
    finally:
        receiver.stop()


def test_a_failed_sink_raises_an_alert_naming_it(server):
    client = server.new_client()
    dead = Receiver(client.password, status=503).start()
    watcher = Receiver(client.password).start()  # the account's other sink, still fine
    try:
        dead_sid = _sink(client, dead, [ERROR, "com.twilio.studio.flow.execution.started"])
        _sink(client, watcher, [ERROR])
        flow_sid = client.studio.v2.flows.create(
            friendly_name="events", status="published", definition=FAILING
        ).sid
        client.studio.v2.flows(flow_sid).executions.create(to="+15550001111", from_="+1555999")
        wait_for(lambda: client.events.v1.sinks(dead_sid).fetch().status == "failed", 30)
        (alert,) = wait_for(
            lambda: [a for a in client.monitor.v1.alerts.list() if a.resource_sid == dead_sid],
            15,
        )
        assert alert.error_code == "91306" and alert.log_level == "error"
        assert alert.more_info == "https://www.twilio.com/docs/api/errors/91306"
        text = parse_qs(alert.alert_text)
        assert text["sinkSid"] == [dead_sid] and dead_sid in text["Msg"][0]
        fetched = parse_qs(client.monitor.v1.alerts(alert.sid).fetch().alert_text)
        assert "HTTP 503" in fetched["Msg"][0]
        # The other sink hears of it (the flow's own 81014 came first).
        found = wait_for(
            lambda: [e for e in _errors(watcher) if e["data"]["service_sid"] == dead_sid], 30
        )
        assert found[0]["id"] == alert.sid
        assert found[0]["data"]["product_name"] == "Event Streams"
        assert found[0]["data"]["error_code"] == "91306"
        # Still failing: one alert, not one per attempt.
        wait_for(lambda: dead.hits >= 5, 30)
        assert [a.sid for a in client.monitor.v1.alerts.list() if a.resource_sid == dead_sid] == [
            alert.sid
        ]
    finally:
        dead.stop()
        watcher.stop()
