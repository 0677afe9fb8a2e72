"""Console: the simulator's call panel, driving an IVR flow in the browser."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import APIResponse, expect

from tests.console.conftest import Console
from tests.flows import go, match
from tests.flows import state as widget

GREETING = "Welcome to Flowyard Pizza."
MENU = "Press 1 for our hours, 2 for our address, or say hours."
HOURS = "We are open from noon to midnight."
ADDRESS = "We are at 1 Main Street."

PLACES = {
    "Trigger": (0, 0),
    "greet": (0, 200),
    "menu": (0, 400),
    "route": (-300, 650),
    "heard": (300, 650),
    "hours": (-300, 900),
    "address": (300, 900),
}


def state(name: str, type_: str, transitions: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    """A widget placed on the canvas (so the screenshot shows the flow), not all at 0, 0."""
    x, y = PLACES[name]
    return widget(name, type_, transitions, offset={"x": x, "y": y}, **props)


IVR = {
    "description": "A pizza shop's phone menu",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        state(
            "Trigger",
            "trigger",
            [go("incomingMessage"), go("incomingCall", "greet"), go("incomingRequest")],
        ),
        state("greet", "say-play", [go("audioComplete", "menu")], say=GREETING),
        state(
            "menu",
            "gather-input-on-call",
            [go("keypress", "route"), go("speech", "heard"), go("timeout", "address")],
            say=MENU,
            number_of_digits=1,
            timeout=5,
        ),
        state(
            "route",
            "split-based-on",
            [
                go("noMatch", "address"),
                match("hours", "equal_to", "1", "{{widgets.menu.Digits}}"),
                match("address", "equal_to", "2", "{{widgets.menu.Digits}}"),
            ],
            input="{{widgets.menu.Digits}}",
        ),
        state(
            "heard",
            "split-based-on",
            [
                go("noMatch", "address"),
                match("hours", "contains", "hour", "{{widgets.menu.SpeechResult}}"),
            ],
            input="{{widgets.menu.SpeechResult}}",
        ),
        state("hours", "say-play", [go("audioComplete")], say=HOURS),
        state("address", "say-play", [go("audioComplete")], say=ADDRESS),
    ],
}


def _open_call_panel(console: Console, sid: str) -> None:
    console.open_flow(sid)
    page = console.page
    page.click("#toggle-sim")
    # Only incomingCall is wired: the call panel is the one shown.
    expect(page.locator('.simulator .modes button[value="call"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator(".simulator .sim-call")).to_be_visible()


def _execution(console: Console, flow_sid: str, execution_sid: str) -> dict[str, Any]:
    with console.rest() as rest:
        response = rest.get(f"/v2/Flows/{flow_sid}/Executions/{execution_sid}")
    assert response.status_code == 200, response.text
    return response.json()


def _steps(console: Console, flow_sid: str, execution_sid: str) -> list[str]:
    with console.rest() as rest:
        response = rest.get(f"/v2/Flows/{flow_sid}/Executions/{execution_sid}/Steps")
    assert response.status_code == 200, response.text
    return [s["transitioned_to"] for s in reversed(response.json()["steps"])]


def test_a_call_hears_the_greeting_presses_a_key_and_takes_its_branch(console: Console) -> None:
    sid = console.create_flow("Pizza IVR", IVR, status="published")
    console.sign_in()
    page = console.page
    _open_call_panel(console, sid)
    transcript = page.locator(".simulator .transcript")

    page.click(".simulator button[name=call]")
    expect(transcript.locator(".bubble.say")).to_have_text([GREETING, MENU])
    expect(page.locator('.card[data-widget="menu"]')).to_have_class("card cat-voice current")
    status = page.locator(".simulator .sim-status")
    expect(status).to_contain_text("at menu")
    expect(page.locator(".simulator .answers .prompt")).to_have_text(
        "The flow waits for 1 key or speech."
    )
    expect(page.locator(".simulator input[name=digits]")).to_be_focused()
    execution_sid = status.locator("a").inner_text()
    assert _execution(console, sid, execution_sid)["status"] == "active"

    # The keypad sends like a phone: the gather wants 1 key, so pressing 2 answers it.
    console.shot("simulator-call")
    page.click('.simulator .keypad button[value="2"]')
    expect(transcript.locator(".bubble.in")).to_have_text(["Pressed 2"])
    expect(transcript.locator(".bubble.say")).to_have_text([GREETING, MENU, ADDRESS])
    expect(transcript.locator(".bubble.note").last).to_have_text("The call ended.")
    expect(status).to_contain_text("ended")
    expect(page.locator(".card.current")).to_have_count(0)
    expect(page.locator(".simulator .answers")).to_be_hidden()
    expect(page.locator(".simulator button[name=call]")).to_be_focused()

    assert _execution(console, sid, execution_sid)["status"] == "ended"
    assert _steps(console, sid, execution_sid) == ["greet", "menu", "route", "address", "Ended"]

    # The call is in the Calls resource, completed.
    with console.rest() as rest:
        calls = rest.get(f"/2010-04-01/Accounts/{console.account_sid}/Calls.json").json()
    assert [(c["from"], c["status"]) for c in calls["calls"]] == [("+15555550100", "completed")]


def test_a_spoken_answer_then_a_hang_up_mid_call(console: Console) -> None:
    sid = console.create_flow("Pizza IVR", IVR)  # a draft: run as a test user
    console.sign_in()
    page = console.page
    _open_call_panel(console, sid)
    transcript = page.locator(".simulator .transcript")
    status = page.locator(".simulator .sim-status")

    page.click(".simulator button[name=call]")
    expect(transcript.locator(".bubble.say")).to_have_text([GREETING, MENU])
    page.fill(".simulator input[name=speech]", "hours")
    page.press(".simulator input[name=speech]", "Enter")
    expect(transcript.locator(".bubble.in")).to_have_text(["“hours”"])
    expect(transcript.locator(".bubble.say").last).to_have_text(HOURS)
    expect(status).to_contain_text("ended")
    first = status.locator("a").inner_text()
    assert _steps(console, sid, first) == ["greet", "menu", "heard", "hours", "Ended"]

    # A second call, hung up while the menu waits: its execution ends there.
    page.click(".simulator button[name=call]")
    expect(status).to_contain_text("at menu")
    second = status.locator("a").inner_text()
    assert second != first
    expect(page.locator('.card[data-widget="menu"]')).to_have_class("card cat-voice current")
    page.click(".simulator button[name=hangup]")
    expect(transcript.locator(".bubble.in").last).to_have_text("(hangs up)")
    expect(status).to_contain_text("ended")
    expect(page.locator(".card.current")).to_have_count(0)
    assert _execution(console, sid, second)["status"] == "ended"
    assert _steps(console, sid, second) == ["greet", "menu"]  # it ended where it waited

    # Bad keys are refused with Twilio's error, and the call can still be answered.
    page.click(".simulator button[name=call]")
    expect(status).to_contain_text("at menu")
    page.fill(".simulator input[name=digits]", "12a")
    page.press(".simulator input[name=digits]", "Enter")
    expect(transcript.locator(".bubble.note").last).to_have_text(
        "Invalid parameter digits: must be 1 to 40 of 0-9, * and #"
    )
    expect(page.locator(".simulator input[name=digits]")).to_have_value("12a")
    expect(status).to_contain_text("at menu")
    page.click(".simulator button[name=silence]")
    expect(transcript.locator(".bubble.say").last).to_have_text(ADDRESS)
    expect(status).to_contain_text("ended")

    # Phone width: the panel fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, width
    console.shot("simulator-call-phone")


def _post(console: Console, path: str, body: dict[str, Any], csrf: bool = True) -> APIResponse:
    token = console.page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    headers = {"X-CSRF-Token": token} if csrf else {}
    return console.page.request.post(f"{console.base}/api{path}", data=body, headers=headers)


def test_call_api_checks_the_account_the_input_and_the_csrf_token(console: Console) -> None:
    sid = console.create_flow("Pizza IVR", IVR, status="published")
    console.sign_in()
    console.open_flow(sid)
    calls = f"/flows/{sid}/simulator/call"
    numbers = {"from": "+15550001111", "to": "+15559990000"}
    assert _post(console, calls, numbers, csrf=False).status == 403

    started = _post(console, calls, numbers)
    assert started.status == 200, started.text()
    result = started.json()
    assert [line["text"] for line in result["lines"]] == [GREETING, MENU]
    assert result["waiting"] == {"dtmf": True, "speech": True, "num_digits": 1}
    assert result["ended"] is False and result["current"] == "menu"
    call_sid, execution_sid = result["call_sid"], result["execution"]["sid"]

    # Bad input: a Twilio error, and the call still waits in the menu.
    for bad in ({"digits": "1x"}, {"digits": 7}, {}, {"digits": "1", "speech": "hours"}):
        refused = _post(console, f"{calls}/{call_sid}/gather", bad)
        assert refused.status == 400, bad
        assert refused.json()["code"] == 20001
        assert refused.json()["message"].startswith("Invalid parameter")
    assert _post(console, calls, {"from": "", "to": "+1"}).status == 400
    assert _steps(console, sid, execution_sid) == ["greet", "menu"]

    # Another account signed in to the console cannot see or drive the call.
    other_sid, other_token = console.server.new_account("intruder")
    console.page.context.clear_cookies()
    console.sign_in(other_sid, other_token)
    console.page.goto(console.base + "/")
    for path in (f"{calls}/{call_sid}/gather", f"{calls}/{call_sid}/hangup"):
        assert _post(console, path, {"digits": "1"}).status == 404, path
    assert _post(console, calls, numbers).status == 404
    assert _execution(console, sid, execution_sid)["status"] == "active"

    # The owner answers; then the call is over and takes no more input.
    console.page.context.clear_cookies()
    console.sign_in()
    answered = _post(console, f"{calls}/{call_sid}/gather", {"digits": "1"})
    assert answered.status == 200, answered.text()
    assert [line["text"] for line in answered.json()["lines"]] == [HOURS]
    assert answered.json()["ended"] is True
    late = _post(console, f"{calls}/{call_sid}/hangup", {})
    assert late.status == 400 and late.json()["code"] == 21220
    assert _execution(console, sid, execution_sid)["status"] == "ended"

    # An execution ended elsewhere: the next answer hears the hang-up Twilio would get.
    again = _post(console, calls, numbers).json()
    with console.rest() as rest:
        ended = rest.post(
            f"/v2/Flows/{sid}/Executions/{again['execution']['sid']}", data={"Status": "ended"}
        )
    assert ended.status_code == 200, ended.text
    answered = _post(console, f"{calls}/{again['call_sid']}/gather", {"digits": "1"})
    assert answered.status == 200, answered.text()
    assert answered.json()["ended"] is True
    assert answered.json()["lines"] == [{"kind": "event", "text": "[the execution has ended]"}]
    with console.rest() as rest:
        call = rest.get(
            f"/2010-04-01/Accounts/{console.account_sid}/Calls/{again['call_sid']}.json"
        )
    assert call.json()["status"] == "completed"


ASK = "We sent you a text: reply with your order number."
HELD_CALL = {
    "description": "An order line that asks for the order number by SMS",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        widget(
            "Trigger",
            "trigger",
            [go("incomingMessage"), go("incomingCall", "greet"), go("incomingRequest")],
            offset={"x": 0, "y": 0},
        ),
        widget(
            "greet", "say-play", [go("audioComplete", "ask")], say=ASK, offset={"x": 0, "y": 220}
        ),
        widget(
            "ask",
            "send-and-wait-for-reply",
            [go("incomingMessage", "confirm"), go("timeout"), go("deliveryFailure")],
            body="Your order number?",
            timeout="3600",
            offset={"x": 0, "y": 440},
            **{"from": "{{flow.channel.address}}"},
        ),
        widget(
            "confirm",
            "say-play",
            [go("audioComplete")],
            say="Order {{widgets.ask.inbound.Body}}",
            offset={"x": 0, "y": 660},
        ),
    ],
}


def test_a_call_on_hold_goes_on_when_the_sms_reply_arrives(console: Console) -> None:
    sid = console.create_flow("Orders", HELD_CALL, status="published")
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.click("#toggle-sim")
    page.click('.simulator .modes button[value="call"]')
    transcript = page.locator(".simulator .transcript")

    page.click(".simulator button[name=call]")
    expect(transcript.locator(".bubble.say")).to_have_text([ASK])
    expect(transcript.locator(".bubble.note").last).to_contain_text("on hold")
    expect(page.locator(".simulator .answers")).to_be_hidden()
    expect(page.locator(".simulator button[name=hangup]")).to_be_visible()

    # The person answers the text from the Messages panel; the held call hears the result.
    page.click('.simulator .modes button[value="messages"]')
    page.fill(".simulator input[name=message]", "4242")
    page.press(".simulator input[name=message]", "Enter")
    page.click('.simulator .modes button[value="call"]')
    expect(transcript.locator(".bubble.say")).to_have_text([ASK, "Order 4242"])
    expect(transcript.locator(".bubble.note").last).to_have_text("The call ended.")
    console.shot("simulator-call-held")
