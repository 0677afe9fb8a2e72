"""The flow page shows the webhook and REST URLs (as Studio's Trigger widget does) with copy
buttons, and a run-subflow naming no flow of the account in its Problems tab."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.console.conftest import Console

ONBOARDING = Path(__file__).resolve().parents[2] / "examples" / "onboarding" / "onboarding.json"


def test_trigger_urls_and_a_dangling_subflow(console: Console) -> None:
    sid = console.create_flow("Onboarding", json.loads(ONBOARDING.read_text()))
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    base = console.server.base_url
    webhook = page.get_by_label("Webhook URL", exact=True)
    expect(webhook).to_have_value(f"{base}/v1/Accounts/{console.account_sid}/Flows/{sid}")
    expect(page.get_by_label("REST API URL", exact=True)).to_have_value(
        f"{base}/v2/Flows/{sid}/Executions"
    )
    expect(page.get_by_role("button", name="Copy Webhook URL")).to_be_visible()

    page.click("#problem-summary")
    problems = page.locator("#side .problems-list")
    expect(problems).to_contain_text("Ask_Name_Subflow")
    expect(problems).to_contain_text("names no flow in this account")
    console.shot("trigger-urls")
    # Edited, the definition is checked again by the server: the warning stays.
    page.click('button.add[data-type="send-message"]')
    page.click("#problem-summary")
    expect(problems).to_contain_text("one of body or content_sid")
    expect(problems).to_contain_text("names no flow in this account")
