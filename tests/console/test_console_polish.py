"""Console polish (issue 13, item 10): Fit on large flows, keypad, zoned times, lists."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.conftest import MINIMAL_DEFINITION
from tests.console.conftest import Console


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
