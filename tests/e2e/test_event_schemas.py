"""``/v1/Schemas`` through the official SDK (``client.events.v1.schemas``), responses checked
against the Events spec, and every event a sink receives valid against the raw JSON Schema
its Type names."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jsonschema
import pytest
from twilio.base.exceptions import TwilioRestException

from tests import spec
from tests.conftest import BACKENDS, Server, serving
from tests.e2e.helpers import wait_for
from tests.e2e.receiver import Receiver
from tests.e2e.test_event_streams import ALL_TYPES, ENV, FAILING

SCHEMA_IDS = {"Studio.FlowExecutionEvent": 2, "Studio.FlowStepEvent": 1, "ErrorLogs.Error": 2}


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    with serving(request.param, tmp_path_factory, ENV) as srv:
        yield srv


def test_each_type_points_to_a_schema_the_sdk_fetches(server):
    client = server.new_client()
    for kind in client.events.v1.event_types.list():
        schema = client.events.v1.schemas(kind.schema_id).fetch()
        assert schema.id == kind.schema_id
        assert schema.latest_version == SCHEMA_IDS[kind.schema_id]
        assert schema.links["versions"].endswith(f"/v1/Schemas/{kind.schema_id}/Versions")
        versions = client.events.v1.schemas(kind.schema_id).versions.list()
        assert [v.schema_version for v in versions] == list(range(1, schema.latest_version + 1))
        latest = client.events.v1.schemas(kind.schema_id).versions(schema.latest_version).fetch()
        assert latest.id == kind.schema_id and latest.raw.endswith("/Raw")
        raw = httpx.get(latest.raw, timeout=10).json()  # public, as Twilio's schema host
        jsonschema.Draft202012Validator.check_schema(raw)
    with pytest.raises(TwilioRestException) as missing:
        client.events.v1.schemas("Messaging.MessageStatus").fetch()
    assert missing.value.status == 404
    with pytest.raises(TwilioRestException) as beyond:
        client.events.v1.schemas("Studio.FlowStepEvent").versions(2).fetch()
    assert beyond.value.status == 404


def test_schema_responses_match_the_events_spec(server):
    http = server.http()
    spec.check(http.get("/v1/Schemas/ErrorLogs.Error"), "/v1/Schemas/{Id}")
    page = spec.check(
        http.get("/v1/Schemas/Studio.FlowExecutionEvent/Versions", params={"PageSize": 1}),
        "/v1/Schemas/{Id}/Versions",
    )
    assert page["meta"]["next_page_url"]
    spec.check(http.get(page["meta"]["next_page_url"]), "/v1/Schemas/{Id}/Versions")
    spec.check(
        http.get("/v1/Schemas/Studio.FlowStepEvent/Versions/1"),
        "/v1/Schemas/{Id}/Versions/{SchemaVersion}",
    )
    assert http.get("/v1/Schemas/Studio.FlowStepEvent/Versions/x").status_code == 404


def test_delivered_events_follow_their_raw_schema(server):
    client = server.new_client()
    receiver = Receiver(client.password).start()
    try:
        sink = client.events.v1.sinks.create(
            description="r",
            sink_configuration={"destination": receiver.url, "batch_events": True},
            sink_type="webhook",
        )
        client.events.v1.subscriptions.create(description="s", sink_sid=sink.sid, types=ALL_TYPES)
        flow_sid = client.studio.v2.flows.create(
            friendly_name="schemas", status="published", definition=FAILING
        ).sid
        execution = client.studio.v2.flows(flow_sid).executions.create(
            to="+15550001111", from_="+15559990000"
        )
        events = wait_for(
            lambda: len(found := receiver.of_execution(execution.sid)) >= 5 and found, 30
        )
        types = {t.type: t.schema_id for t in client.events.v1.event_types.list()}
        for event in events:
            schema_id = types[event["type"]]
            version = client.events.v1.schemas(schema_id).fetch().latest_version
            assert event["dataschema"].endswith(f"/{schema_id}/{version}")
            raw = client.events.v1.schemas(schema_id).versions(version).fetch().raw
            jsonschema.validate(
                event["data"],
                httpx.get(raw, timeout=10).json(),
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
    finally:
        receiver.stop()
