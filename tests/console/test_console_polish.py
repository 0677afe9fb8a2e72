"""Console polish (issue 13, item 10): Fit on large flows, keypad, zoned times, lists."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.conftest import MINIMAL_DEFINITION
from tests.console.conftest import Console
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
