"""Debugger alerts through the official SDK (``client.monitor.v1.alerts``), on each backend:
every kind of engine error and refused webhook becomes an alert naming its account, flow,
execution, step and widget, with Twilio's code; the Monitor API lists, filters, pages,
fetches and deletes them, and every answer matches the Monitor spec."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from tests import spec
from tests.conftest import BACKENDS, Server, serving
from tests.e2e.helpers import wait_ended, webhook_url
from tests.e2e.stub import serving_http
from tests.flows import flow, go, state

CONTACT, NUMBER = "+15550001111", "+15559990000"
LIFETIME = 8  # seconds: the short-lived server's executions expire after this


class _Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/big":
            body = b"x" * (70 * 1024)
            self.send_response(200)
        else:
            body = b"broken"
            self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[int]:
    with serving_http(_Target) as port:
        yield port


@pytest.fixture(scope="module", params=BACKENDS)
def short_server(request, tmp_path_factory) -> Iterator[Server]:
    """A server whose executions expire after LIFETIME seconds."""
    with serving(
        request.param, tmp_path_factory, {"FLOWYARD_EXECUTION_LIFETIME": str(LIFETIME)}
    ) as srv:
        yield srv


def _run(client, definition: dict, timeout: float = 30) -> tuple[str, str, dict[str, str]]:
    """Run ``definition`` through REST until it ends: flow SID, execution SID, and the SID of
    the step that left each widget."""
    flow_ = client.studio.v2.flows.create(
        friendly_name="alerts", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    wait_ended(client, flow_.sid, execution.sid, timeout)
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    return flow_.sid, execution.sid, {s.transitioned_from: s.sid for s in steps}


def _by_widget(client, execution_sid: str) -> dict[str, object]:
    found = {}
    for alert in client.monitor.v1.alerts.list():
        fields = parse_qs(alert.alert_text)
        if fields.get("executionSid") == [execution_sid]:
            found[fields["widgetName"][0]] = alert
    return found


def _chain(*widgets: tuple[str, str, str, dict]) -> dict:
    """Widgets run one after the other whatever each one's outcome."""
    states = []
    for i, (name, type_, failure, props) in enumerate(widgets):
        following = widgets[i + 1][0] if i + 1 < len(widgets) else None
        success = {"send-message": "sent", "run-subflow": "completed"}.get(type_, "success")
        states.append(state(name, type_, [go(success, following), go(failure, following)], **props))
    return flow(*states, rest=widgets[0][0])


def test_every_widget_failure_is_an_alert_naming_execution_step_and_widget(short_server, target):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    http = {"method": "GET", "content_type": "application/json"}
    send = {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}
    definition = _chain(
        ("dns", "make-http-request", "failed", {**http, "url": "http://flowyard-alerts.invalid/"}),
        ("bad_url", "make-http-request", "failed", {**http, "url": "not a url"}),
        (
            "status_500",
            "make-http-request",
            "failed",
            {**http, "url": f"http://127.0.0.1:{target}/"},
        ),
        (
            "too_big",
            "make-http-request",
            "failed",
            {**http, "url": f"http://127.0.0.1:{target}/big"},
        ),
        ("denied", "make-http-request", "failed", {**http, "url": "http://169.254.169.254/x"}),
        ("function", "run-function", "fail", {"url": f"http://127.0.0.1:{dead_port}/fn"}),
        (
            "liquid",
            "send-message",
            "failed",
            {**send, "body": "{% for i in (1..99) %}x{% endfor %}"},
        ),
        ("empty_body", "send-message", "failed", {**send, "body": ""}),
        ("subflow", "run-subflow", "failed", {"flow_sid": "FW" + "0" * 32, "flow_revision": "1"}),
    )
    client = short_server.new_client()
    flow_sid, execution_sid, step_of = _run(client, definition)
    alerts = _by_widget(client, execution_sid)
    expected = {
        "dns": "11200",
        "bad_url": "81014",
        "status_500": "11200",
        "too_big": "11200",
        "denied": "11200",
        "function": "81010",
        "liquid": "81018",
        "empty_body": "21602",  # the platform's own code for a message without a body
        "subflow": "81024",
    }
    assert {name: a.error_code for name, a in alerts.items()} == expected
    for name, alert in alerts.items():
        fields = parse_qs(alert.alert_text)
        assert alert.account_sid == client.account_sid and alert.resource_sid == flow_sid
        assert alert.log_level == "error" and alert.sid.startswith("NO")
        assert fields["stepSid"] == [step_of[name]], name
        assert fields["flowSid"] == [flow_sid]
        assert alert.more_info == f"https://www.twilio.com/docs/api/errors/{alert.error_code}"
    assert "HTTP 500" in parse_qs(alerts["status_500"].alert_text)["Msg"][0]
    assert "exceeds" in parse_qs(alerts["too_big"].alert_text)["Msg"][0]
    assert "denied" in parse_qs(alerts["denied"].alert_text)["Msg"][0].lower()
    assert "loop" in parse_qs(alerts["liquid"].alert_text)["Msg"][0]
    assert alerts["status_500"].request_url == f"http://127.0.0.1:{target}/"
    assert alerts["status_500"].request_method == "GET"


def test_step_and_same_widget_limits_are_alerts(short_server):
    client = short_server.new_client()
    ping_pong = flow(
        state("ping", "set-variables", [go("next", "pong")], variables=[]),
        state("pong", "set-variables", [go("next", "ping")], variables=[]),
        rest="ping",
    )
    _flow, execution_sid, _steps = _run(client, ping_pong)
    (alert,) = _by_widget(client, execution_sid).values()
    assert alert.error_code == "81000"
    spin = flow(state("spin", "set-variables", [go("next", "spin")], variables=[]), rest="spin")
    _flow, execution_sid, _steps = _run(client, spin)
    (alert,) = _by_widget(client, execution_sid).values()
    assert alert.error_code == "81001" and "spin" in alert.alert_text


def test_an_expired_execution_is_a_warning(short_server):
    client = short_server.new_client()
    wait = flow(
        state("ask", "send-and-wait-for-reply", [go("incomingMessage"), go("timeout")],
              body="Still there?", timeout="3600", **{"from": NUMBER}),
        rest="ask",
    )  # fmt: skip
    _flow, execution_sid, _steps = _run(client, wait, timeout=LIFETIME + 20)
    (alert,) = _by_widget(client, execution_sid).values()
    assert alert.error_code == "84001" and alert.log_level == "warning"
    assert parse_qs(alert.alert_text)["widgetName"] == ["ask"]


def test_a_slow_server_is_an_alert_at_the_deadline(server):
    listener = socket.socket()  # accepts connections (the backlog) and never answers
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
        client = server.new_client()
        definition = _chain(
            (
                "slow",
                "make-http-request",
                "failed",
                {"method": "GET", "url": url, "content_type": "application/json"},
            ),
        )
        _flow, execution_sid, _steps = _run(client, definition, timeout=40)
    finally:
        listener.close()
    alert = _by_widget(client, execution_sid)["slow"]
    assert alert.error_code == "11200"
    assert "timed out" in parse_qs(alert.alert_text)["Msg"][0]


def test_a_refused_webhook_signature_is_one_alert_naming_the_url(server):
    client = server.new_client()
    flow_ = client.studio.v2.flows.create(
        friendly_name="signed", status="published", definition=flow()
    )
    url = webhook_url(server.base_url, client.account_sid, flow_.sid)
    for signature in ("", "bm90IGEgc2lnbmF0dXJl"):
        answer = httpx.post(url, data={"Body": "hi"}, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 403
    (alert,) = client.monitor.v1.alerts.list()  # the second refusal within a minute: no more
    assert alert.error_code == "20003" and alert.log_level == "warning"
    assert alert.resource_sid == flow_.sid and alert.request_url == url
    assert f"checked against {url}" in parse_qs(alert.alert_text)["Msg"][0]


def _failing_http(count: int) -> dict:
    return _chain(
        *[
            (
                f"h{i}",
                "make-http-request",
                "failed",
                {"method": "GET", "url": f"bad {i}", "content_type": "application/json"},
            )
            for i in range(count)
        ]
    )


def test_the_monitor_api_filters_pages_fetches_and_deletes(short_server):
    client = short_server.new_client()
    flow_sid, _execution, _steps = _run(client, _failing_http(5))
    url = webhook_url(short_server.base_url, client.account_sid, flow_sid)
    assert httpx.post(url, data={"Body": "hi"}).status_code == 403  # one warning
    alerts = client.monitor.v1.alerts
    every = alerts.list()
    assert len(every) == 6 and every[0].log_level == "warning"  # newest first
    assert len(alerts.list(log_level="warning")) == 1
    assert len(alerts.list(log_level="error")) == 5
    now = datetime.now(UTC)
    assert len(alerts.list(start_date=now - timedelta(hours=1))) == 6
    assert alerts.list(start_date=now + timedelta(hours=1)) == []
    assert alerts.list(end_date=now - timedelta(hours=1)) == []
    assert [a.sid for a in alerts.list(page_size=2)] == [a.sid for a in every]

    http = httpx.Client(base_url=short_server.base_url, auth=(client.account_sid, client.password))
    today = now.date().isoformat()
    page = spec.check(
        http.get("/v1/Alerts", params={"PageSize": 4, "EndDate": today}), "/v1/Alerts"
    )
    assert len(page["alerts"]) == 4 and "EndDate=" in page["meta"]["next_page_url"]
    rest = spec.check(http.get(page["meta"]["next_page_url"]), "/v1/Alerts")
    assert [a["sid"] for a in page["alerts"] + rest["alerts"]] == [a.sid for a in every]
    first = every[-1]
    body = spec.check(http.get(f"/v1/Alerts/{first.sid}"), "/v1/Alerts/{Sid}")
    assert body["error_code"] == "81014" and body["request_url"] is None
    fetched = alerts(first.sid).fetch()
    assert fetched.alert_text == first.alert_text and fetched.resource_sid == flow_sid

    # Another account sees none of them, and can neither read nor delete them.
    other = short_server.new_client()
    assert other.monitor.v1.alerts.list() == []
    with pytest.raises(TwilioRestException) as info:
        other.monitor.v1.alerts(first.sid).fetch()
    assert info.value.status == 404 and info.value.code == 20404
    other_http = httpx.Client(
        base_url=short_server.base_url, auth=(other.account_sid, other.password)
    )
    assert other_http.delete(f"/v1/Alerts/{first.sid}").status_code == 404

    assert http.delete(f"/v1/Alerts/{first.sid}").status_code == 204
    assert len(alerts.list()) == 5
    assert http.delete(f"/v1/Alerts/{first.sid}").status_code == 404
    for bad in ({"LogLevel": "loud"}, {"StartDate": "yesterday"}, {"PageToken": "XX1"}):
        answer = http.get("/v1/Alerts", params=bad)
        assert answer.status_code == 400 and answer.json()["code"] == 20001, bad


def test_a_loop_through_a_failing_widget_writes_a_bounded_number_of_alerts(short_server):
    client = short_server.new_client()
    loop = flow(
        state("h", "make-http-request", [go("success", "v"), go("failed", "v")],
              method="GET", url="not a url", content_type="application/json"),
        state("v", "set-variables", [go("next", "h")], variables=[]),
        rest="h",
    )  # fmt: skip
    _flow, execution_sid, _steps = _run(client, loop)
    found = [
        a
        for a in client.monitor.v1.alerts.list()
        if f"executionSid={execution_sid}" in a.alert_text
    ]
    codes = sorted(a.error_code for a in found)
    assert codes == ["81000"] + ["81014"] * 20 + ["84002"]  # the limit, 20 failures, a count
    (count,) = [a for a in found if a.error_code == "84002"]
    assert parse_qs(count.alert_text)["Msg"] == ["480 more errors in this sprint were not recorded"]
