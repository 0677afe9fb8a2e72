"""Console: why a widget failed, where people look. The execution page marks the failing step
and widget red with its alert, the flow page lists recent alerts, the simulator prints the
reason; alert text is shown as text; and the alert JSON is bound to the signed-in account."""

from __future__ import annotations

import socket
import time
from contextlib import closing
from typing import Any

import httpx
from playwright.sync_api import expect

from flowyard.service import alerts as alert_service
from flowyard.store import create_db_engine
from flowyard.store.alerts import insert_alerts
from tests.conftest import Server
from tests.console.conftest import Console, http_sign_in

MORE_INFO = "https://www.twilio.com/docs/api/errors/11200"


def _dead_url() -> str:
    """A URL on a loopback port nothing listens on: the request fails at once (refused)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    return f"http://127.0.0.1:{port}/slots"


def _widget(name: str, type_: str, x: int, y: int, transitions: list, **props: Any) -> dict:
    return {
        "name": name,
        "type": type_,
        "transitions": transitions,
        "properties": {"offset": {"x": x, "y": y}, **props},
    }


def booking(url: str) -> dict[str, Any]:
    """Trigger → Fetch_Slot (an HTTP request to ``url``) → Confirm, or Apologize on failure."""
    send = {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}
    return {
        "description": "Fetches a slot",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            _widget("Trigger", "trigger", 0, 0, [
                {"event": "incomingMessage", "next": "Fetch_Slot"},
                {"event": "incomingCall"},
                {"event": "incomingRequest", "next": "Fetch_Slot"},
            ]),
            _widget("Fetch_Slot", "make-http-request", 0, 200, [
                {"event": "success", "next": "Confirm"},
                {"event": "failed", "next": "Apologize"},
            ], method="GET", url=url, content_type="application/json"),
            _widget("Confirm", "send-message", -160, 420,
                    [{"event": "sent"}, {"event": "failed"}], body="Booked.", **send),
            _widget("Apologize", "send-message", 160, 420,
                    [{"event": "sent"}, {"event": "failed"}], body="Sorry, try later.", **send),
        ],
    }  # fmt: skip


def _run_to_end(console: Console, flow_sid: str) -> str:
    """Start an execution by REST and wait until it ended; its SID."""
    with console.rest() as rest:
        created = rest.post(
            f"/v2/Flows/{flow_sid}/Executions", data={"To": "+15550001", "From": "+15550002"}
        )
        assert created.status_code == 201, created.text
        sid = created.json()["sid"]
        deadline = time.monotonic() + 30
        while rest.get(f"/v2/Flows/{flow_sid}/Executions/{sid}").json()["status"] != "ended":
            assert time.monotonic() < deadline, "the execution did not end"
            time.sleep(0.1)
    return sid


def _open_execution(console: Console, flow_sid: str, execution_sid: str) -> None:
    console.page.goto(f"{console.base}/flows/{flow_sid}/executions/{execution_sid}")
    console.page.wait_for_selector("body[data-ready=true]")


def test_failed_http_step_is_red_with_its_alert_and_listed_on_the_flow(console: Console) -> None:
    flow_sid = console.create_flow("Booking", booking(_dead_url()), status="published")
    execution_sid = _run_to_end(console, flow_sid)
    console.sign_in()
    page = console.page
    _open_execution(console, flow_sid, execution_sid)

    failed = page.locator("#timeline li.step-failed")
    expect(failed).to_have_count(1)
    expect(failed.locator("button")).to_contain_text("Fetch_Slot → Apologize")
    expect(failed.locator(".alert-msg")).to_contain_text("http_failed at Fetch_Slot")
    expect(failed.locator(".alert-msg")).to_contain_text("Request failed")
    link = failed.locator("a.err-code")
    expect(link).to_have_text("Error 11200")
    expect(link).to_have_attribute("href", MORE_INFO)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator('#exec-canvas .card[data-widget="Fetch_Slot"]')).to_have_class(
        "card cat-integration visited widget-failed"
    )
    expect(page.locator("#exec-canvas .card.widget-failed")).to_have_count(1)
    expect(page.locator("#exec-alerts .alert-box")).to_have_count(0)  # all shown at their step
    expect(page.locator("#exec-meta")).to_contain_text("1 alert")
    console.shot("execution-failed-step")

    # The flow page: the tab counts the recent alerts, lists them, links to the execution.
    console.open_flow(flow_sid)
    tab = page.locator('#side [data-tab="alerts"]')
    expect(tab).to_have_text("Alerts (1)")
    tab.click()
    items = page.locator("#side .alerts-list li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Error 11200")
    expect(items.first).to_contain_text("at Fetch_Slot")
    expect(items.first.locator("a.err-code")).to_have_attribute("href", MORE_INFO)
    console.shot("flow-recent-alerts")
    items.first.locator(f'a[href$="/executions/{execution_sid}"]').click()
    page.wait_for_url(f"{console.base}/flows/{flow_sid}/executions/{execution_sid}")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#timeline li.step-failed")).to_have_count(1)


def test_simulator_prints_why_a_widget_failed(console: Console) -> None:
    flow_sid = console.create_flow("Booking", booking(_dead_url()), status="published")
    console.sign_in()
    page = console.page
    console.open_flow(flow_sid)
    page.click('#side [data-tab="alerts"]')
    expect(page.locator("#side .empty-alerts")).to_have_text("No alerts")

    page.click("#toggle-sim")
    expect(page.locator(".simulator .sim-status")).to_have_text("No execution yet.")
    page.fill(".simulator input[name=message]", "book me")
    page.press(".simulator input[name=message]", "Enter")
    chat = page.locator(".simulator .chat")
    expect(chat.locator(".bubble.out")).to_have_text(["Sorry, try later."])
    alert = chat.locator(".bubble.alert.error")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Error 11200: http_failed at Fetch_Slot: Request failed")
    expect(alert.locator("a")).to_have_attribute("href", MORE_INFO)
    expect(page.locator(".simulator .sim-status")).to_contain_text("ended")
    console.shot("simulator-alert")
    # Polls after the turn bring nothing twice.
    page.wait_for_timeout(1200)
    expect(alert).to_have_count(1)


def test_alert_text_is_shown_as_text_never_as_html(console: Console) -> None:
    payload = '<img src=x onerror="document.body.dataset.pwned=1">'
    flow_sid = console.create_flow("Booking", booking(payload), status="published")
    execution_sid = _run_to_end(console, flow_sid)
    console.sign_in()
    page = console.page
    _open_execution(console, flow_sid, execution_sid)
    message = page.locator("#timeline li.step-failed .alert-msg")
    expect(message).to_contain_text(payload)
    console.open_flow(flow_sid)
    page.click('#side [data-tab="alerts"]')
    expect(page.locator("#side .alerts-list .alert-msg")).to_contain_text(payload)
    assert page.locator("main img").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None


def test_a_warning_without_a_step_is_amber_at_the_top(console: Console) -> None:
    flow_sid = console.create_flow("Booking", booking(_dead_url()), status="published")
    execution_sid = _run_to_end(console, flow_sid)
    # As the runtime stores one for an execution it had to end: no step, no widget.
    warning = alert_service.broken(
        console.account_sid, flow_sid, execution_sid, "expired: the execution ran too long"
    )
    warning.update(log_level="warning", error_code=84001)
    # And a warning at a step: amber there and on its widget.
    with console.rest() as rest:
        steps = rest.get(f"/v2/Flows/{flow_sid}/Executions/{execution_sid}/Steps").json()
    sent = next(s["sid"] for s in steps["steps"] if s["transitioned_from"] == "Apologize")
    at_step = alert_service.broken(
        console.account_sid, flow_sid, execution_sid, "dangling_transition at Apologize: x"
    )
    at_step.update(log_level="warning", step_sid=sent, widget="Apologize")
    db = create_db_engine(console.server.database_url)
    with db.begin() as conn:
        insert_alerts(conn, [warning, at_step])
    db.dispose()
    console.sign_in()
    page = console.page
    _open_execution(console, flow_sid, execution_sid)
    top = page.locator("#exec-alerts .alert-box")
    expect(top).to_have_count(1)
    expect(top).to_have_class("alert-box warning")
    expect(top).to_contain_text("Warning 84001")
    expect(top).to_contain_text("the execution ran too long")
    expect(page.locator("#timeline li.step-failed .alert-box")).to_have_count(1)  # the HTTP one
    expect(page.locator("#timeline li.step-warning")).to_contain_text("Apologize → Ended")
    expect(page.locator("#timeline li.step-warning .alert-box.warning")).to_have_count(1)
    expect(page.locator('#exec-canvas .card[data-widget="Apologize"]')).to_have_class(
        "card cat-messaging visited widget-warned"
    )
    expect(page.locator("#exec-meta")).to_contain_text("3 alerts")
    console.shot("execution-warnings")


def _api(client: httpx.Client, path: str) -> httpx.Response:
    return client.get(f"/console/api/flows/{path}")


def test_alert_json_is_bound_to_the_account(console: Console) -> None:
    server: Server = console.server
    flow_sid = console.create_flow("Booking", booking(_dead_url()), status="published")
    first = _run_to_end(console, flow_sid)
    second = _run_to_end(console, flow_sid)
    with closing(http_sign_in(server.base_url, console.account_sid, console.auth_token)) as mine:
        data = _api(mine, f"{flow_sid}/executions/{first}").json()
        (alert,) = data["alerts"]
        failing = next(s for s in data["steps"] if s["from"] == "Fetch_Slot")
        assert alert["step_sid"] == failing["sid"] and failing["event"] == "failed"
        assert alert["sid"].startswith("NO") and alert["execution_sid"] == first
        assert alert["error_code"] == 11200 and alert["log_level"] == "error"
        assert alert["widget"] == "Fetch_Slot" and alert["more_info"] == MORE_INFO
        assert alert["message"].startswith("http_failed at Fetch_Slot: Request failed")
        assert alert["request_url"].startswith("http://127.0.0.1:")
        assert alert["date_generated"].endswith("Z")
        recent = _api(mine, f"{flow_sid}/alerts").json()["alerts"]
        assert [a["execution_sid"] for a in recent] == [second, first]  # newest first

        # The simulator: a turn brings the alerts it caused, once; a new panel none.
        sim = f"/console/api/flows/{flow_sid}/simulator"
        csrf = mine.get("/console/").text.split('name="csrf-token" content="', 1)[1]
        headers = {"X-CSRF-Token": csrf.split('"', 1)[0]}
        opened = mine.get(sim, params={"contact": "+15550003", "after": "now"}).json()
        assert opened["alerts"] == [] and opened["alert_cursor"] >= 2
        turn = mine.post(
            f"{sim}/start",
            json={"contact": "+15550003", "address": "+15550002", "body": "hi",
                  "after": opened["cursor"], "alerts_after": opened["alert_cursor"]},
            headers=headers,
        ).json()  # fmt: skip
        assert [(a["error_code"], a["widget"]) for a in turn["alerts"]] == [(11200, "Fetch_Slot")]
        again = mine.get(
            sim,
            params={"contact": "+15550003", "after": turn["cursor"],
                    "alerts_after": turn["alert_cursor"]},
        ).json()  # fmt: skip
        assert again["alerts"] == [] and again["alert_cursor"] == turn["alert_cursor"]

    other_sid, other_token = server.new_account("intruder")
    with closing(http_sign_in(server.base_url, other_sid, other_token)) as other:
        for path in (f"{flow_sid}/alerts", f"{flow_sid}/executions/{first}"):
            response = _api(other, path)
            assert response.status_code == 404, path
            assert "Fetch_Slot" not in response.text
        stolen = other.get(
            f"/console/api/flows/{flow_sid}/simulator",
            params={"contact": "+15550003", "after": "0", "alerts_after": "0"},
        )
        assert stolen.status_code == 404
