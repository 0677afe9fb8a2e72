"""Console: the simulator, the executions list and an execution's timeline and context."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.console.conftest import Console

GREETER = {
    "description": "Asks a name and greets",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {"offset": {"x": 0, "y": 0}},
            "transitions": [
                {"event": "incomingMessage", "next": "ask"},
                {"event": "incomingCall"},
                {"event": "incomingRequest", "next": "ask"},
            ],
        },
        {
            "name": "ask",
            "type": "send-and-wait-for-reply",
            "properties": {
                "offset": {"x": 0, "y": 200},
                "from": "{{flow.channel.address}}",
                "body": "What is your name?",
                "timeout": "3600",
            },
            "transitions": [
                {"event": "incomingMessage", "next": "remember"},
                {"event": "timeout"},
                {"event": "deliveryFailure"},
            ],
        },
        {
            "name": "remember",
            "type": "set-variables",
            "properties": {
                "offset": {"x": 0, "y": 400},
                "variables": [{"key": "name", "value": "{{widgets.ask.inbound.Body}}"}],
            },
            "transitions": [{"event": "next", "next": "greet"}],
        },
        {
            "name": "greet",
            "type": "send-message",
            "properties": {
                "offset": {"x": 0, "y": 600},
                "from": "{{flow.channel.address}}",
                "to": "{{contact.channel.address}}",
                "body": "Hello {{flow.variables.name}}!",
            },
            "transitions": [{"event": "sent"}, {"event": "failed"}],
        },
    ],
}


def _open_simulator(console: Console, sid: str) -> None:
    console.open_flow(sid)
    console.page.click("#toggle-sim")
    expect(console.page.locator(".simulator .sim-status")).to_have_text("No execution yet.")


def _say(console: Console, text: str) -> None:
    console.page.fill(".simulator input[name=message]", text)
    console.page.press(".simulator input[name=message]", "Enter")


def test_simulated_conversation_then_its_execution_and_context(console: Console) -> None:
    sid = console.create_flow("Greeter", GREETER, status="published")
    console.sign_in()
    page = console.page
    _open_simulator(console, sid)

    _say(console, "hi")
    chat = page.locator(".simulator .chat")
    expect(chat.locator(".bubble.in")).to_have_text(["hi"])
    expect(chat.locator(".bubble.out")).to_have_text(["What is your name?"])
    expect(page.locator('.card[data-widget="ask"]')).to_have_class("card cat-messaging current")
    expect(page.locator(".simulator .sim-status")).to_contain_text("at ask")
    console.shot("simulator")

    _say(console, "Ada")
    expect(chat.locator(".bubble.out")).to_have_text(["What is your name?", "Hello Ada!"])
    expect(page.locator(".simulator .sim-status")).to_contain_text("ended")
    expect(page.locator(".card.current")).to_have_count(0)

    # Traffic: the canvas counts executions through each widget.
    page.select_option("#traffic", "24")
    expect(page.locator('.card[data-widget="greet"] .count')).to_have_text("1 ran")
    expect(page.locator('.card[data-widget="Trigger"] .count')).to_have_text("1 ran")

    page.click("nav >> text=Executions")
    rows = page.locator("#executions tbody tr[data-sid]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ended")
    expect(rows.first).to_contain_text("+15555550100")
    console.shot("executions")

    page.select_option("#filters select[name=status]", "active")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(0)
    page.select_option("#filters select[name=status]", "ended")
    page.fill("#filters input[name=to]", (date.today() - timedelta(days=2)).isoformat())
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(0)
    page.fill("#filters input[name=to]", "")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)

    rows.first.locator("a").click()
    page.wait_for_selector("body[data-ready=true]")
    steps = page.locator("#timeline button")
    expect(steps.nth(1)).to_contain_text("Trigger → ask")
    expect(page.locator('#exec-canvas .card[data-widget="greet"]')).to_have_class(
        "card cat-messaging visited"
    )
    expect(page.locator("#exec-canvas path.edge.taken")).to_have_count(3)

    # The context explorer: open flow → variables and read the variable set by the flow.
    page.locator('#context details[data-path="flow"] > summary').click()
    page.locator('#context details[data-path="flow.variables"] > summary').click()
    expect(page.locator('#context li[data-path="flow.variables.name"]')).to_contain_text('"Ada"')
    console.shot("execution")

    # The context after the first step has no variable yet.
    steps.nth(1).click()
    expect(page.locator("#ctx-which")).to_contain_text("after step 1")
    page.locator('#context details[data-path="flow"] > summary').click()
    expect(page.locator('#context [data-path="flow.variables.name"]')).to_have_count(0)


def test_rest_start_end_and_delete_an_execution(console: Console) -> None:
    sid = console.create_flow(
        "Greeter", GREETER
    )  # draft only: the simulator runs it as a test user
    console.sign_in()
    page = console.page
    _open_simulator(console, sid)
    expect(page.locator(".simulator input[name=draft]")).to_be_checked()
    page.click("text=Start by REST API")
    expect(page.locator(".simulator .bubble.out")).to_have_text(["What is your name?"])
    status = page.locator(".simulator .sim-status")
    expect(status).to_contain_text("waiting")
    execution_sid = status.locator("a").inner_text()

    with console.rest() as rest:
        users = rest.get(f"/v2/Flows/{sid}/TestUsers").json()["test_users"]
    assert users == ["+15555550100"]

    page.goto(f"{console.base}/flows/{sid}/executions/{execution_sid}")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#exec-meta")).to_contain_text("active")
    page.click("#end")
    expect(page.locator("#exec-meta")).to_contain_text("ended")
    expect(page.locator("#end")).to_be_hidden()
    page.click("#delete")
    page.wait_for_url(f"{console.base}/flows/{sid}/executions")
    expect(page.locator("#executions tbody tr[data-sid]")).to_have_count(0)
    with console.rest() as rest:
        gone = rest.get(f"/v2/Flows/{sid}/Executions/{execution_sid}")
    assert gone.status_code == 404


def test_another_accounts_execution_is_refused(console: Console) -> None:
    sid = console.create_flow("Greeter", GREETER, status="published")
    with console.rest() as rest:
        created = rest.post(
            f"/v2/Flows/{sid}/Executions", data={"To": "+15550001", "From": "+15550002"}
        )
    assert created.status_code == 201, created.text
    execution_sid = created.json()["sid"]
    other_sid, other_token = console.server.new_account("intruder")
    console.sign_in(other_sid, other_token)
    request = console.page.request
    for path in (f"/executions/{execution_sid}", "/executions", "/traffic?hours=24"):
        assert request.get(f"{console.base}/api/flows/{sid}{path}").status == 404, path
    response = console.page.goto(f"{console.base}/flows/{sid}/executions/{execution_sid}")
    assert response is not None and response.status == 404
