"""The ``twilio`` platform for issue 12 rows 2 and 3: Content Templates reach the Messages
API as ContentSid/ContentVariables; a Run Function given by SIDs is resolved through the
Serverless API once, then from the cache."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from tests.conftest import serving_on_twilio
from tests.e2e.helpers import wait_ended
from tests.e2e.stub import JsonHandler
from tests.flows import flow, go, state

CONTACT, NUMBER = "+15550001212", "+15559990000"
ZS, ZE, ZH, ZB = "ZS" + "1" * 32, "ZE" + "2" * 32, "ZH" + "3" * 32, "ZB" + "4" * 32
TEMPLATE = "HX" + "5" * 32
DOMAIN = "astro-1234-dev.twil.io"


class FakeTwilio(JsonHandler):
    """Messages.json (POST) and the Serverless reads (GET), recorded."""

    posted: list[dict[str, list[str]]] = []
    gets: list[str] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        params = parse_qs(self.rfile.read(length).decode())
        self.posted.append(params)
        sid = "SM" + uuid.uuid4().hex
        self.answer(201, {
            "sid": sid, "account_sid": self.path.split("/")[3], "to": params["To"][0],
            "from": params.get("From", [None])[0], "body": "Hi Ann, your code is 42",
            "status": "queued", "num_segments": "1", "num_media": "0",
            "direction": "outbound-api", "api_version": "2010-04-01",
            "messaging_service_sid": None, "error_code": None,
        })  # fmt: skip

    def do_GET(self):
        self.gets.append(self.path)
        base = f"/v1/Services/{ZS}"
        if self.path == f"{base}/Environments/{ZE}":
            self.answer(200, {
                "sid": ZE, "service_sid": ZS, "build_sid": ZB, "domain_name": DOMAIN,
                "unique_name": "dev", "domain_suffix": "dev",
            })  # fmt: skip
        elif self.path == f"{base}/Builds/{ZB}":
            versions = [{"sid": "ZN1", "function_sid": ZH, "path": "/horoscope"}]
            self.answer(200, {"sid": ZB, "service_sid": ZS, "function_versions": versions})
        else:
            self.answer(404, {"code": 20404, "message": "not found", "status": 404})


@pytest.fixture
def twilio_server(tmp_path) -> Iterator:
    FakeTwilio.posted, FakeTwilio.gets = [], []
    # The resolved Function host must not be reached from a test.
    with serving_on_twilio(FakeTwilio, tmp_path / "tw.db", FLOWYARD_HTTP_DENY=DOMAIN) as srv:
        yield srv


def test_content_templates_and_functions_by_sids_on_the_twilio_platform(twilio_server):
    client = twilio_server.client()
    definition = flow(
        state("greet", "send-message", [go("sent", "fn"), go("failed")], body="",
              message_type="content_template", content_sid=TEMPLATE,
              content_variables=[{"key": "{{1}}", "value": "{{flow.data.name}}"},
                                 {"key": "2", "value": "42"}],
              **{"from": NUMBER, "to": "{{contact.channel.address}}"}),
        state("fn", "run-function", [go("success"), go("fail")], url="",
              service_sid=ZS, environment_sid=ZE, function_sid=ZH),
        rest="greet",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=definition
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    for to in (CONTACT, "+15550001313"):
        execution = executions.create(to=to, from_=NUMBER, parameters={"name": "Ann"})
        wait_ended(client, flow_.sid, execution.sid)
    sent = FakeTwilio.posted[0]
    assert sent["ContentSid"] == [TEMPLATE] and "Body" not in sent
    assert json.loads(sent["ContentVariables"][0]) == {"1": "Ann", "2": "42"}
    ctx = executions(execution.sid).execution_context().fetch().context
    assert ctx["widgets"]["greet"]["outbound"]["Body"] == "Hi Ann, your code is 42"
    # Resolved once (environment + build), then cached for the second execution.
    assert FakeTwilio.gets == [
        f"/v1/Services/{ZS}/Environments/{ZE}",
        f"/v1/Services/{ZS}/Builds/{ZB}",
    ]
    alerts = client.monitor.v1.alerts.list()
    assert {a.request_url for a in alerts} == {f"https://{DOMAIN}/horoscope"}
