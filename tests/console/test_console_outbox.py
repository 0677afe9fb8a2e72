"""Console Messages and Calls pages (issue 13, item 9): the local platform's outbox of the
signed-in account, newest first, paged, filtered by number, linked to executions."""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.conftest import MINIMAL_DEFINITION
from tests.console.conftest import Console, http_sign_in
from tests.console.test_console_polish import _wide_definition
from tests.e2e.helpers import (
    inbound_sms,
    post_signed,
    wait_ended,
    wait_for,
    wait_messages,
    webhook_url,
)
from tests.flows import go
from tests.flows import state as widget

NUMBER = "+15550001000"
ANN = "+15550002001"
BOB = "+15550002002"
XSS = '<img src=x onerror="document.body.dataset.pwned=1">'


def _sender(body: str) -> dict[str, Any]:
    """Sends ``body`` to the contact (REST executions)."""
    definition = json.loads(json.dumps(MINIMAL_DEFINITION))
    definition["states"][0]["transitions"][2]["next"] = "say"
    definition["states"].append(
        widget("say", "send-message", [go("sent"), go("failed")], body=body,
               **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"})
    )  # fmt: skip
    return definition


def _send(client: Any, flow_sid: str, to: str) -> str:
    execution = client.studio.v2.flows(flow_sid).executions.create(to=to, from_=NUMBER)
    wait_ended(client, flow_sid, execution.sid)
    return execution.sid


def _open_from_nav(console: Console, name: str) -> tuple[Page, Locator]:
    """Sign in, follow the top bar's link to the page, and return its table's rows."""
    console.sign_in()
    console.page.click(f"nav >> text={name}")
    console.page.wait_for_url(f"{console.base}/{name.lower()}")
    return console.page, console.page.locator(f"#{name.lower()} tbody tr")


def test_messages_page_lists_this_accounts_messages_newest_first_as_text(
    console: Console,
) -> None:
    server = console.server
    mine = server.client(console.account_sid, console.auth_token)
    theirs = server.new_client()
    other = theirs.studio.v2.flows.create(
        friendly_name="Other", status="published", definition=_sender("other account secret")
    )
    _send(theirs, other.sid, ANN)
    hello = mine.studio.v2.flows.create(
        friendly_name="Hello", status="published", definition=_sender("Hello Ann")
    )
    first = _send(mine, hello.sid, ANN)
    html = mine.studio.v2.flows.create(
        friendly_name="Html", status="published", definition=_sender(XSS)
    )
    last = _send(mine, html.sid, BOB)
    wait_messages(mine, BOB, 1)
    # A contact's message to the flow is stored too (inbound, no execution: the trigger
    # has no incomingMessage transition, so none starts).
    url = webhook_url(server.base_url, console.account_sid, hello.sid)
    sms = inbound_sms(ANN, NUMBER, "Hi from Ann", console.account_sid)
    assert post_signed(url, console.auth_token, sms).status_code == 200

    page, rows = _open_from_nav(console, "Messages")
    expect(rows).to_have_count(3)
    # Newest first; the other account's message never shows.
    expect(rows.nth(0)).to_contain_text("Hi from Ann")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("inbound")
    expect(rows.nth(0).locator("td").nth(6)).to_have_text("")
    expect(rows.nth(1).locator("td").nth(3)).to_have_text(BOB)
    expect(rows.nth(2).locator("td").nth(3)).to_have_text(ANN)
    expect(page.locator("#messages")).not_to_contain_text("other account secret")
    # An HTML body is shown as the text it is: no element, no handler run.
    expect(rows.nth(1).locator("td.body-text")).to_have_text(XSS)
    assert page.locator("#messages img").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None
    console.shot("messages")

    page.fill("#filters input[name=to]", ANN)
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Hello Ann")
    assert "to=%2B15550002001" in page.url
    page.fill("#filters input[name=to]", "")
    page.fill("#filters input[name=from]", ANN)
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Hi from Ann")
    page.fill("#filters input[name=from]", BOB)
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("No message matches")

    page.goto(console.base + f"/messages?to={BOB.replace('+', '%2B')}")
    expect(rows).to_have_count(1)
    rows.nth(0).locator("a").click()
    page.wait_for_url(f"{console.base}/flows/{html.sid}/executions/{last}")
    assert first != last


def test_messages_page_pages_fifty_at_a_time(console: Console) -> None:
    mine = console.server.client(console.account_sid, console.auth_token)
    chatty = _wide_definition(55)
    chatty["states"][0]["transitions"][2]["next"] = "say_0"
    flow = mine.studio.v2.flows.create(
        friendly_name="Chatty", status="published", definition=chatty
    )
    _send(mine, flow.sid, ANN)
    wait_messages(mine, ANN, 55)
    console.sign_in()
    page = console.page
    page.goto(console.base + "/messages")
    rows = page.locator("#messages tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.nth(0)).to_contain_text("Message 54")
    page.click("#more")
    expect(rows).to_have_count(55)
    expect(rows.nth(54)).to_contain_text("Message 0")
    expect(page.locator("#more")).to_be_hidden()


CALLER = "+15550003003"


def _caller() -> dict[str, Any]:
    definition = json.loads(json.dumps(MINIMAL_DEFINITION))
    definition["states"][0]["transitions"][2]["next"] = "dial"
    definition["states"].append(
        widget("dial", "make-outgoing-call-v2",
               [go("answered"), go("busy"), go("noAnswer"), go("failed")],
               **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}",
                  "timeout": 30})
    )  # fmt: skip
    return definition


def test_calls_page_lists_this_accounts_calls_linked_to_executions(console: Console) -> None:
    server = console.server
    mine = server.client(console.account_sid, console.auth_token)
    theirs = server.new_client()
    other = theirs.studio.v2.flows.create(
        friendly_name="Other", status="published", definition=_caller()
    )
    theirs.studio.v2.flows(other.sid).executions.create(to="+15550009999", from_=NUMBER)
    wait_for(lambda: theirs.calls.list() or None)
    flow = mine.studio.v2.flows.create(
        friendly_name="Dialer", status="published", definition=_caller()
    )
    sids = [
        mine.studio.v2.flows(flow.sid).executions.create(to=to, from_=NUMBER).sid
        for to in (ANN, CALLER)
    ]
    wait_for(lambda: len(mine.calls.list()) == 2 or None)

    page, rows = _open_from_nav(console, "Calls")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(3)).to_have_text(CALLER)
    expect(rows.nth(0)).to_contain_text("outbound-api")
    expect(page.locator("#calls")).not_to_contain_text("+15550009999")
    console.shot("calls")
    page.fill("#filters input[name=to]", ANN)
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    rows.nth(0).locator("a").click()
    page.wait_for_url(f"{console.base}/flows/{flow.sid}/executions/{sids[0]}")


def test_outbox_api_needs_a_session_and_checks_numbers(console: Console) -> None:
    base = console.server.base_url
    for path in ("/console/api/messages", "/console/api/calls"):
        assert httpx.get(base + path).status_code == 401
    client = http_sign_in(base, console.account_sid, console.auth_token)
    try:
        long = client.get("/console/api/messages", params={"to": "1" * 256})
        assert long.status_code == 400
        assert long.json()["code"] == 20001 and "to" in long.json()["message"]
        assert client.get("/console/api/calls", params={"from": "+1555"}).json() == {
            "calls": [],
            "next": None,
        }
        assert client.get("/console/messages").status_code == 200
    finally:
        client.close()
