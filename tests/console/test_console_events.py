"""The console's Event Streams page: sinks with their delivery status and subscriptions with
their event types, bound to the signed-in account."""

from __future__ import annotations

import json

from tests.console.conftest import Console, http_sign_in
from tests.e2e.helpers import wait_for
from tests.e2e.receiver import Receiver
from tests.e2e.test_event_streams import ALL_TYPES, FAILING


def _sink(rest, name: str, url: str) -> str:
    config = json.dumps({"destination": url, "batch_events": name == "warehouse"})
    response = rest.post(
        "/v1/Sinks", data={"Description": name, "SinkType": "webhook", "SinkConfiguration": config}
    )
    assert response.status_code == 201, response.text
    sid = response.json()["sid"]
    types = [json.dumps(t) for t in ALL_TYPES]
    response = rest.post(
        "/v1/Subscriptions", data={"Description": f"all to {name}", "SinkSid": sid, "Types": types}
    )
    assert response.status_code == 201, response.text
    return sid


def test_sinks_and_subscriptions_with_their_delivery_status(console: Console) -> None:
    live = Receiver(console.auth_token).start()
    dead = Receiver(console.auth_token, status=503).start()
    try:
        with console.rest() as rest:
            good = _sink(rest, "warehouse", live.url)
            bad = _sink(rest, "flaky", dead.url)
            rest.post(f"/v1/Sinks/{good}/Test")
            test = wait_for(lambda: live.events(), 15)[0]
            rest.post(f"/v1/Sinks/{good}/Validate", data={"TestId": test["id"]})
            flow_sid = console.create_flow("events", FAILING, "published")
            rest.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": "+15550001", "From": "+1555"})
            wait_for(lambda: len(live.events()) >= 6, 30)
            wait_for(
                lambda: (
                    rest.get(f"/v1/Sinks/{bad}").json()["status"] == "initialized"
                    and _failures(console, bad)
                ),
                30,
            )
        console.sign_in()
        console.page.click("nav >> text=Event Streams")
        console.page.wait_for_selector(f"#sinks tr[data-sid='{bad}']")
        row = console.page.locator(f"#sinks tr[data-sid='{good}']")
        assert "active" in row.inner_text() and "(batched)" in row.inner_text()
        flaky = console.page.locator(f"#sinks tr[data-sid='{bad}']").inner_text()
        assert "HTTP 503" in flaky and "next try" in flaky
        subs = console.page.locator("#subscriptions tbody").inner_text()
        assert "com.twilio.studio.flow.step.ended" in subs and "all to flaky" in subs
        console.shot("event-streams")
    finally:
        live.stop()
        dead.stop()


def _failures(console: Console, sink_sid: str) -> bool:
    c = http_sign_in(console.server.base_url, console.account_sid, console.auth_token)
    sinks = c.get("/console/api/event-streams").json()["sinks"]
    c.close()
    return any(s["sid"] == sink_sid and s["failures"] >= 1 for s in sinks)


def test_the_page_is_bound_to_the_account(console: Console) -> None:
    with console.rest() as rest:
        _sink(rest, "mine", "http://127.0.0.1:9/x")
    other_sid, other_token = console.server.new_account("other")
    other = http_sign_in(console.server.base_url, other_sid, other_token)
    assert other.get("/console/api/event-streams").json() == {"sinks": [], "subscriptions": []}
    mine = http_sign_in(console.server.base_url, console.account_sid, console.auth_token)
    sinks = mine.get("/console/api/event-streams").json()["sinks"]
    assert [s["description"] for s in sinks] == ["mine"]
    other.close()
    mine.close()
    assert console.server.http().get("/console/api/event-streams").status_code == 401
