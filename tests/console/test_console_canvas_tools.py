"""Canvas minimap and widget search (issue 13, item 9) on a large real flow."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.console.conftest import Console

SARAALERT = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "flows"
    / "SaraAlert__SaraAlert__assessment_studio_flow.json"
)


def _open_large_flow(console: Console) -> str:
    definition = json.loads(SARAALERT.read_text())
    sid = console.create_flow("SaraAlert assessment", definition)
    console.sign_in()
    console.open_flow(sid)
    return sid


def _transform(console: Console) -> str:
    return console.page.locator("svg.canvas g.viewport").get_attribute("transform") or ""


def _frame_center(console: Console) -> tuple[float, float]:
    box = console.page.locator(".minimap-view").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_minimap_click_and_drag_move_the_canvas(console: Console) -> None:
    _open_large_flow(console)
    page = console.page
    minimap = page.locator("svg.minimap")
    expect(page.locator(".minimap-card")).to_have_count(51)
    area = minimap.bounding_box()
    assert area is not None and area["width"] > 100
    before = _transform(console)
    target = (area["x"] + area["width"] * 0.8, area["y"] + area["height"] * 0.8)
    page.mouse.click(*target)
    after = _transform(console)
    assert after != before
    # The visible part's rectangle is now centred where the minimap was clicked.
    cx, cy = _frame_center(console)
    assert abs(cx - target[0]) < 2 and abs(cy - target[1]) < 2, (cx, cy, target)
    console.shot("canvas-minimap")

    start = (area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.3)
    end = (area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.6)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=5)
    page.mouse.up()
    assert _transform(console) != after
    cx, cy = _frame_center(console)
    assert abs(cx - end[0]) < 2 and abs(cy - end[1]) < 2, (cx, cy, end)
    # Panning the canvas itself moves the rectangle too.
    canvas = page.locator("svg.canvas").bounding_box()
    assert canvas is not None
    page.mouse.move(canvas["x"] + 600, canvas["y"] + 20)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 400, canvas["y"] + 20, steps=5)
    page.mouse.up()
    moved_x, _ = _frame_center(console)
    assert moved_x > cx + 1


def _card_center(console: Console, name: str) -> tuple[float, float]:
    box = console.page.locator(f'svg.canvas .card[data-widget="{name}"]').bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_widget_search_finds_centres_and_cycles(console: Console) -> None:
    _open_large_flow(console)
    page = console.page
    page.locator("svg.canvas").focus()
    page.keyboard.press("/")
    search = page.locator("input.widget-search")
    expect(search).to_be_focused()
    search.press_sequentially("set_language")
    results = page.locator("#search-results li[role=option]")
    expect(results).to_have_count(8)
    expect(page.locator(".search-count")).to_have_text("0 of 8")
    canvas = page.locator("svg.canvas").bounding_box()
    assert canvas is not None
    middle = (canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)

    seen = []
    for index in range(3):
        search.press("Enter")
        expect(page.locator(".search-count")).to_have_text(f"{index + 1} of 8")
        selected = page.locator("svg.canvas .card.selected")
        expect(selected).to_have_count(1)
        name = selected.get_attribute("data-widget") or ""
        assert name.startswith("set_language")
        x, y = _card_center(console, name)
        assert abs(x - middle[0]) < 3 and abs(y - middle[1]) < 3, (name, x, y, middle)
        seen.append(name)
    assert len(set(seen)) == 3
    # The inspector shows the found widget.
    expect(page.locator("#side")).to_contain_text(seen[-1])
    console.shot("canvas-search")

    # By type: "Split Based On" widgets; Escape closes and returns to the canvas.
    search.fill("split based")
    expect(page.locator(".search-count")).to_have_text("0 of 12")
    expect(page.locator("#search-results")).to_contain_text("and 4 more")
    search.press("Escape")
    expect(page.locator("svg.canvas")).to_be_focused()
    page.keyboard.press("Control+f")
    expect(search).to_be_focused()
    search.fill("no such widget")
    expect(page.locator(".search-count")).to_have_text("no match")
