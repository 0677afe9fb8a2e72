"""Console: a coverage file (``flowyard test --coverage-json``) and production traffic's
"never taken" view on the canvas — dashed red transitions, greyed widgets, counts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.console.conftest import Console, http_sign_in

ROOT = Path(__file__).resolve().parents[2]
UNRUN = re.compile(r"\bunrun\b")


def _send(name: str, x: int, body: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "send-message",
        "properties": {
            "offset": {"x": x, "y": 440},
            "from": "{{flow.channel.address}}",
            "to": "{{contact.channel.address}}",
            "body": body,
        },
        "transitions": [{"event": "sent"}, {"event": "failed"}],
    }


def _condition(value: str) -> dict[str, Any]:
    return {
        "friendly_name": value,
        "arguments": ["{{flow.data.answer}}"],
        "type": "equal_to",
        "value": value,
    }


# Started by REST with an answer: "yes" and anything else are taken, "no" never is.
ROUTER = {
    "description": "Routes an answer",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {"offset": {"x": 300, "y": 0}},
            "transitions": [
                {"event": "incomingMessage"},
                {"event": "incomingCall"},
                {"event": "incomingRequest", "next": "Route"},
            ],
        },
        {
            "name": "Route",
            "type": "split-based-on",
            "properties": {"offset": {"x": 300, "y": 210}, "input": "{{flow.data.answer}}"},
            "transitions": [
                {"event": "noMatch", "next": "Other"},
                {"event": "match", "next": "Yes", "conditions": [_condition("yes")]},
                {"event": "match", "next": "No", "conditions": [_condition("no")]},
            ],
        },
        _send("Other", 0, "Sorry?"),
        _send("Yes", 300, "Great"),
        _send("No", 600, "Pity"),
    ],
}
ANSWERS = ("yes", "maybe", "yes")


def _coverage_file(folder: Path) -> Path:
    """Run ``flowyard test --coverage-json`` on the router's tests and examples/appointment."""
    (folder / "router.json").write_text(json.dumps(ROUTER))
    tests = [
        {
            "name": f"answers {answer} ({i})",
            "trigger": {"rest": {"to": "+15550001111", "parameters": {"answer": answer}}},
            "steps": [{"expect": {"status": "ended"}}],
        }
        for i, answer in enumerate(ANSWERS)
    ]
    (folder / "router.test.json").write_text(json.dumps({"flow": "router.json", "tests": tests}))
    output = folder / "coverage.json"
    command = [sys.executable, "-m", "flowyard", "test", str(folder), "examples/appointment"]
    done = subprocess.run(
        [*command, "--coverage-json", str(output)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return output


def _dashed(page: Page, selector: str) -> str:
    return page.locator(selector).evaluate("(node) => getComputedStyle(node).strokeDasharray")


def test_coverage_file_on_the_canvas(console: Console, tmp_path: Path) -> None:
    coverage = _coverage_file(tmp_path)
    sid = console.create_flow("Router", ROUTER)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.set_input_files("#coverage-file", str(coverage))

    bar = page.locator("#coverage-bar")
    expect(bar.locator(".summary")).to_have_text(
        "Coverage 60% — 5 transitions never taken, 1 widget never ran"
    )
    # Two flows in the file: the one with this flow's widgets is chosen, the other offered.
    expect(page.locator("#coverage-flow option")).to_have_count(2)
    expect(page.locator("#coverage-flow option:checked")).to_contain_text("router.json")

    never = 'path.edge.untaken[data-from="Route"][data-to="No"]'
    expect(page.locator(never)).to_have_count(1)
    assert _dashed(page, never) not in ("", "none")
    expect(page.locator('path.edge.covered[data-from="Route"][data-to="Yes"]')).to_have_count(1)
    expect(page.locator('path.edge.untaken[data-from="Route"]')).to_have_count(1)
    expect(page.locator('.card[data-widget="No"]')).to_have_class(UNRUN)
    expect(page.locator('.card[data-widget="Yes"]')).not_to_have_class(UNRUN)
    expect(page.locator('.card[data-widget="Yes"] .count')).to_have_text("2 ran")
    expect(page.locator('.card[data-widget="Route"] .count')).to_have_text("3 ran")
    expect(page.locator('.card[data-widget="No"] .count')).to_have_text("0 ran")
    # An unwired event never taken: its port is marked, there is no arrow to dash.
    failed = page.locator('.card[data-widget="Yes"] .port.untaken[data-event="failed"]')
    expect(failed).to_have_count(1)
    expect(page.locator("text.edge-count.covered")).to_contain_text(["2\N{MULTIPLICATION SIGN}"])
    # The trigger's channels the flow does not take are no branches.
    expect(page.locator('.card[data-widget="Trigger"] .port.untaken')).to_have_count(0)

    bar.locator("summary").click()
    items = bar.locator(".never-taken button")
    expect(items).to_have_text(
        [
            "Route --match[1: no]--> No",
            "Other --failed--> Ended",
            "Yes --failed--> Ended",
            "No --sent--> Ended",
            "No --failed--> Ended",
        ]
    )
    console.shot("coverage-canvas")
    items.first.click()
    expect(page.locator('.card[data-widget="Route"]')).to_have_class(re.compile(r"\bselected\b"))
    expect(bar.locator(".never-ran button")).to_have_text(["No never ran"])

    # The other file of the coverage JSON shares no widget: nothing of it lands on this flow.
    page.select_option("#coverage-flow", index=1)
    expect(bar.locator(".summary")).to_contain_text("Coverage 83%")

    page.click("#coverage-clear")
    expect(bar).to_be_hidden()
    overlay = page.locator("path.edge.untaken, path.edge.covered, .card.unrun, .card .count")
    expect(overlay).to_have_count(0)


def _run_router(server: Server, account_sid: str, auth_token: str, flow_sid: str) -> None:
    client = server.client(account_sid, auth_token)
    for i, answer in enumerate(ANSWERS):
        client.studio.v2.flows(flow_sid).executions.create(
            to=f"+1555000{i:04d}", from_="+15550009999", parameters={"answer": answer}
        )


def test_traffic_shows_transitions_never_taken(console: Console) -> None:
    sid = console.create_flow("Router", ROUTER, status="published")
    _run_router(console.server, console.account_sid, console.auth_token, sid)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.check("#never-taken")  # picks the last 24 h when the traffic view was off

    expect(page.locator("#traffic")).to_have_value("24")
    bar = page.locator("#coverage-bar")
    expect(bar.locator(".summary")).to_have_text(
        "Traffic, last 24 h: 3 executions — 5 transitions never taken"
    )
    expect(bar).not_to_contain_text("null")
    never = 'path.edge.untaken[data-from="Route"][data-to="No"]'
    expect(page.locator(never)).to_have_count(1)
    assert _dashed(page, never) not in ("", "none")
    expect(page.locator('path.edge.covered[data-from="Trigger"][data-to="Route"]')).to_have_count(1)
    expect(page.locator('.card[data-widget="No"]')).to_have_class(UNRUN)
    expect(page.locator('.card[data-widget="Yes"] .count')).to_have_text("2 ran")
    expect(page.locator('.card[data-widget="Other"] .count')).to_have_text("1 ran")
    console.shot("traffic-never-taken")

    # Without "never taken" the traffic view counts executions only, as before.
    page.uncheck("#never-taken")
    expect(bar).to_be_hidden()
    expect(page.locator("path.edge.untaken, .card.unrun")).to_have_count(0)
    expect(page.locator('.card[data-widget="Yes"] .count')).to_have_text("2 ran")


def test_traffic_counts_transitions_for_its_account_only(server: Server) -> None:
    account_sid, token = server.new_account("traffic")
    client = server.client(account_sid, token)
    flow = client.studio.v2.flows.create(
        friendly_name="Router", status="published", definition=ROUTER
    )
    _run_router(server, account_sid, token, flow.sid)

    mine = http_sign_in(server.base_url, account_sid, token)
    data = mine.get(f"/console/api/flows/{flow.sid}/traffic?hours=24").json()
    mine.close()
    taken = {(t["from"], t["event"], t["to"]): t["count"] for t in data["transitions"]}
    assert taken[("Trigger", "incomingRequest", "Route")] == 3
    assert taken[("Route", "match", "Yes")] == 2
    assert taken[("Route", "noMatch", "Other")] == 1
    assert ("Route", "match", "No") not in taken
    assert taken[("Yes", "sent", "Ended")] == 2
    assert data["executions"] == 3 and data["widgets"]["Yes"] == 2

    other_sid, other_token = server.new_account("intruder")
    other = http_sign_in(server.base_url, other_sid, other_token)
    for hours in ("24", "all"):
        response = other.get(f"/console/api/flows/{flow.sid}/traffic?hours={hours}")
        assert response.status_code == 404, response.text
    other.close()
