"""Console polish (issue 13, item 10): Fit on large flows, keypad, zoned times, lists."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.conftest import MINIMAL_DEFINITION
from tests.console.conftest import Console
from tests.console.test_console_executions import GREETER
from tests.flows import go
from tests.flows import state as widget


def _wide_definition(count: int = 30, step: int = 235) -> dict:
    """A chain of send-message widgets spread over ~6,800 px, like the largest corpus flow."""
    definition = json.loads(json.dumps(MINIMAL_DEFINITION))
    previous = definition["states"][0]["transitions"][0]
    for i in range(count):
        name = f"say_{i}"
        previous["next"] = name
        state = {
            "name": name,
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {
                "offset": {"x": (i + 1) * step, "y": (i % 4) * 260},
                "body": f"Message {i}",
                "from": "{{flow.channel.address}}",
                "to": "{{contact.channel.address}}",
            },
        }
        definition["states"].append(state)
        previous = state["transitions"][0]
    return definition


def test_fit_shows_every_widget_of_a_very_wide_flow(console: Console) -> None:
    definition = _wide_definition()
    span = max(s["properties"]["offset"]["x"] for s in definition["states"])
    assert span >= 6_700
    sid = console.create_flow("Wide", definition)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.click('button[aria-label="Fit to screen"]')
    canvas = page.locator("svg.canvas").bounding_box()
    assert canvas is not None
    cards = page.locator("svg.canvas .card")
    expect(cards).to_have_count(len(definition["states"]))
    boxes = cards.evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.dataset.widget, r.left, r.top, r.right, r.bottom]; })"
    )
    for name, left, top, right, bottom in boxes:
        assert left >= canvas["x"] - 0.5, (name, left, canvas)
        assert top >= canvas["y"] - 0.5, (name, top, canvas)
        assert right <= canvas["x"] + canvas["width"] + 0.5, (name, right, canvas)
        assert bottom <= canvas["y"] + canvas["height"] + 0.5, (name, bottom, canvas)
    console.shot("canvas-fit-large")


PIN_FLOW = {
    "description": "Two gathers with no fixed number of keys",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        widget(
            "Trigger",
            "trigger",
            [go("incomingMessage"), go("incomingCall", "pin"), go("incomingRequest")],
            offset={"x": 0, "y": 0},
        ),
        widget(
            "pin",
            "gather-input-on-call",
            [go("keypress", "room"), go("speech"), go("timeout")],
            say="Enter your PIN, then hash.",
            timeout=5,
            offset={"x": 0, "y": 200},
        ),
        widget(
            "room",
            "gather-input-on-call",
            [go("keypress", "bye"), go("speech"), go("timeout")],
            say="Enter your room.",
            timeout=5,
            offset={"x": 0, "y": 400},
        ),
        widget(
            "bye",
            "say-play",
            [go("audioComplete")],
            say="PIN {{widgets.pin.Digits}}, room {{widgets.room.Digits}}.",
            offset={"x": 0, "y": 600},
        ),
    ],
}


def test_keypad_sends_on_hash_or_after_a_pause(console: Console) -> None:
    sid = console.create_flow("PIN", PIN_FLOW, status="published")
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.click("#toggle-sim")
    transcript = page.locator(".simulator .transcript")
    page.click(".simulator button[name=call]")
    expect(transcript.locator(".bubble.say")).to_have_text(["Enter your PIN, then hash."])
    for key in "12#":
        page.click(f'.simulator .keypad button[value="{key}"]')
    # '#' sends at once, as a phone's finish key does.
    expect(transcript.locator(".bubble.in")).to_have_text(["Pressed 12#"])
    expect(transcript.locator(".bubble.say").last).to_have_text("Enter your room.")
    page.click('.simulator .keypad button[value="7"]')
    page.click('.simulator .keypad button[value="4"]')
    # No finish key: a short pause sends what was pressed, and the call moves on.
    expect(transcript.locator(".bubble.in")).to_have_text(["Pressed 12#", "Pressed 74"])
    expect(transcript.locator(".bubble.say").last).to_have_text("PIN 12, room 74.")
    expect(page.locator(".simulator .sim-status")).to_contain_text("ended")
    console.shot("simulator-keypad")


ZONED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC([+-]\d\d:\d\d)?$")


def _start(console: Console, sid: str, contact: str) -> str:
    with console.rest() as rest:
        response = rest.post(
            f"/v2/Flows/{sid}/Executions", data={"To": contact, "From": "+15550009999"}
        )
    assert response.status_code == 201, response.text
    return response.json()["sid"]


def test_active_link_contact_search_and_zoned_times(console: Console) -> None:
    sid = console.create_flow("Greeter", GREETER, status="published")
    first = _start(console, sid, "+15550001111")
    second = _start(console, sid, "+15550002222")
    ended = _start(console, sid, "whatsapp:+15550003333")
    with console.rest() as rest:
        response = rest.post(f"/v2/Flows/{sid}/Executions/{ended}", data={"Status": "ended"})
    assert response.status_code == 200, response.text
    console.sign_in()
    page = console.page

    # "Active executions" opens the list filtered to the active ones.
    link = page.locator(f'#flows tr[data-sid="{sid}"] a[aria-label^="Active executions"]')
    expect(link).to_have_text("2")
    link.click()
    page.wait_for_url(f"{console.base}/flows/{sid}/executions?status=active")
    expect(page.locator("#filters select[name=status]")).to_have_value("active")
    rows = page.locator("#executions tbody tr[data-sid]")
    expect(rows).to_have_count(2)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.sid)")) == {first, second}

    # Search by contact: part of the address, any status; the filter goes in the URL.
    page.select_option("#filters select[name=status]", "")
    page.fill("#filters input[name=contact]", "3333")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-sid", ended)
    assert "contact=3333" in page.url
    page.fill("#filters input[name=contact]", "2222")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-sid", second)
    page.fill("#filters input[name=contact]", "%")  # a literal, not a wildcard
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(0)

    # Every printed time ends with its zone: the browser's, as an offset from UTC.
    page.goto(f"{console.base}/flows/{sid}/executions?contact=1111")
    expect(rows).to_have_count(1)
    started = rows.first.locator('td[data-label="Started"]').inner_text()
    assert ZONED.match(started), started
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Kolkata"})
    page.reload()
    expect(rows).to_have_count(1)
    for label in ("Started", "Last change"):
        shown = rows.first.locator(f'td[data-label="{label}"]').inner_text()
        assert ZONED.match(shown) and shown.endswith(" UTC+05:30"), shown
    console.shot("executions-filtered")

    page.goto(f"{console.base}/flows/{sid}/executions/{first}")
    page.wait_for_selector("body[data-ready=true]")
    meta = page.locator("#exec-meta").inner_text()
    assert len(re.findall(r"\d\d:\d\d:\d\d UTC\+05:30", meta)) == 2, meta
    step_time = page.locator("#timeline time").first.inner_text()
    assert ZONED.match(step_time) and step_time.endswith("UTC+05:30"), step_time
    page.goto(console.base + "/")
    updated = page.locator(f'#flows tr[data-sid="{sid}"] time').inner_text()
    assert updated.endswith(" UTC+05:30"), updated
    console.shot("execution-zoned")


def test_flows_list_search_and_sort(console: Console) -> None:
    sids = {
        name: console.create_flow(name, MINIMAL_DEFINITION) for name in ("beta", "Alpha", "gamma")
    }
    console.sign_in()
    page = console.page
    names = page.locator("#flows tbody tr[data-sid] td:first-child > a")
    # Newest change first by default (dates are to the second: ties go by SID).
    with console.rest() as rest:
        listed = rest.get("/v2/Flows").json()["flows"]
    listed.sort(key=lambda f: f["sid"])
    listed.sort(key=lambda f: f["date_updated"], reverse=True)
    expect(names).to_have_text([f["friendly_name"] for f in listed])
    page.select_option("#flow-filter select[name=sort]", "name")
    expect(names).to_have_text(["Alpha", "beta", "gamma"])
    page.fill("#flow-filter input[name=q]", "AL")
    expect(names).to_have_text(["Alpha"])
    page.fill("#flow-filter input[name=q]", sids["gamma"].lower())
    expect(names).to_have_text(["gamma"])
    page.fill("#flow-filter input[name=q]", "nothing like it")
    expect(names).to_have_count(0)
    expect(page.locator("#flows tbody")).to_contain_text("No flow matches")
    page.fill("#flow-filter input[name=q]", "a")
    expect(names).to_have_text(["Alpha", "beta", "gamma"])
    console.shot("flows-search")
