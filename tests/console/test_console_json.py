"""The JSON tab (issue 13, item 9): CodeMirror with highlighting and the validator's problems
marked where their property paths point; editing and saving through it."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.console.conftest import Console, fill_json, json_text
from tests.console.test_console_executions import GREETER

VALID = re.compile(r"Valid|0 errors")


def _greeter(timeout: str) -> dict:
    definition = json.loads(json.dumps(GREETER))
    definition["states"][1]["properties"]["timeout"] = timeout
    return definition


def _marked_lines(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of each line that holds an error underline."""
    return page.locator("#json .cm-line:has(.cm-lintRange-error)").all_inner_texts()


def test_json_tab_marks_a_problem_at_its_property_path(console: Console) -> None:
    sid = console.create_flow("Bad timeout", _greeter("3600"))
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    # A flow with a problem cannot be stored: make one in the inspector.
    page.click('.card[data-widget="ask"] text.name')
    page.fill('#side input[name="timeout"]', "soon")
    expect(page.locator("#problem-summary")).to_contain_text("1 error")
    page.click("#tab-json")
    text = json_text(page)
    assert json.loads(text)["states"][1]["properties"]["timeout"] == "soon"
    # Highlighted JSON: property names and strings in their own styled spans.
    expect(page.locator("#json .cm-content span").first).to_be_visible()
    assert page.locator("#json .cm-content span").count() > 20
    # The underline sits on the timeout line, with a gutter marker beside it.
    expect(page.locator("#json .cm-lintRange-error")).to_have_count(1)
    assert [line.strip().rstrip(",") for line in _marked_lines(page)] == ['"timeout": "soon"']
    expect(page.locator("#json .cm-lint-marker-error")).to_have_count(1)
    # The message shows when the pointer rests on the underline.
    page.locator("#json .cm-lintRange-error").hover()
    expect(page.locator("#json .cm-tooltip-lint")).to_contain_text("is not a whole number")
    console.shot("json-problem-marker")

    # Fix it in the editor: the marker goes away, and saving stores the edit.
    fixed = text.replace('"timeout": "soon"', '"timeout": "600"')
    fill_json(page, fixed)
    expect(page.locator("#problem-summary")).to_have_text(VALID)
    expect(page.locator("#json .cm-lintRange-error")).to_have_count(0)
    page.click("#save")
    page.fill("#save-form input[name=message]", "timeout fixed in JSON")
    page.click("#save-form button[value=published]")
    expect(page.locator("#flow-status")).to_contain_text("revision 2")
    with console.rest() as rest:
        flow = rest.get(f"/v2/Flows/{sid}").json()
    assert flow["definition"]["states"][1]["properties"]["timeout"] == "600"
    assert flow["commit_message"] == "timeout fixed in JSON"


def test_json_tab_typing_marks_a_new_problem_and_undo_stays_in_the_editor(
    console: Console,
) -> None:
    sid = console.create_flow("Typing", _greeter("3600"))
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.click("#tab-json")
    json_text(page)
    expect(page.locator("#json .cm-lintRange-error")).to_have_count(0)
    # Type into the editor: select the 3600 and replace it.
    line = page.locator("#json .cm-line", has_text='"timeout": "3600"')
    line.click()
    page.keyboard.press("End")
    for _ in range(2 if line.inner_text().endswith(",") else 1):
        page.keyboard.press("ArrowLeft")  # before the closing quote
    for _ in range(4):
        page.keyboard.press("Backspace")
    page.keyboard.type("later")
    expect(page.locator("#json .cm-lintRange-error")).to_have_count(1)
    assert [line.strip().rstrip(",") for line in _marked_lines(page)] == ['"timeout": "later"']
    expect(page.locator("#problem-summary")).to_contain_text("1 error")
    # Ctrl+Z undoes the typing in the editor (not the page's own undo of the last edit).
    for _ in range(10):
        page.keyboard.press("Control+z")
    assert '"timeout": "3600"' in json_text(page)
    expect(page.locator("#problem-summary")).to_have_text(VALID)
    expect(page.locator("#json .cm-lintRange-error")).to_have_count(0)


def test_json_tab_marks_a_missing_property_on_its_object_without_csp_errors(
    console: Console,
) -> None:
    page = console.page
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sid = console.create_flow("Missing body", _greeter("3600"))
    console.sign_in()
    console.open_flow(sid)
    page.click('button.add[data-type="send-message"]')
    expect(page.locator("#problem-summary")).to_contain_text("1 error")
    page.click("#tab-json")
    json_text(page)
    # "properties: one of body or content_sid is required" points at #/states/4/properties:
    # the key of that object is underlined, not the whole widget.
    mark = page.locator("#json .cm-lintRange-error")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text('"properties"')
    page.locator("#json .cm-lint-marker-error").hover()
    expect(page.locator("#json .cm-tooltip")).to_contain_text("one of body or content_sid")
    # CodeMirror styles itself inside a shadow root: nothing the page's CSP would block.
    gutter = page.locator("#json .cm-gutters")
    assert gutter.evaluate("e => getComputedStyle(e).display") == "flex"
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
