"""Browser fixtures for the console tests: Debian's Chromium driven by Playwright.

Screenshots of each main page go to ``artifacts/screenshots/`` (git-ignored) for CI to keep.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import Server

# Debian's Chromium (Playwright's own download cannot run here); any Chromium on PATH will do.
CHROMIUM = (
    os.environ.get("FLOWYARD_TEST_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or shutil.which("google-chrome")
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no Chromium on PATH (install chromium or set FLOWYARD_TEST_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Console:
    """A signed-out browser tab on a running server, with its own fresh account."""

    page: Page
    server: Server
    account_sid: str
    auth_token: str
    errors: list[str]

    @property
    def base(self) -> str:
        return self.server.base_url + "/console"

    def sign_in(self, username: str | None = None, password: str | None = None) -> None:
        self.page.goto(self.base + "/")
        self.page.fill("input[name=username]", username or self.account_sid)
        self.page.fill("input[name=password]", password or self.auth_token)
        self.page.click("form button[type=submit]")
        self.page.wait_for_url(self.base + "/")
        self.page.wait_for_selector("#flows tbody tr")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.server.backend}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def rest(self) -> httpx.Client:
        """The Studio REST API as this account, to check what the console stored."""
        return httpx.Client(base_url=self.server.base_url, auth=(self.account_sid, self.auth_token))

    def create_flow(self, name: str, definition: dict[str, Any], status: str = "draft") -> str:
        with self.rest() as rest:
            response = rest.post(
                "/v2/Flows",
                data={
                    "FriendlyName": name,
                    "Status": status,
                    "Definition": json.dumps(definition),
                },
            )
        assert response.status_code == 201, response.text
        return response.json()["sid"]

    def open_flow(self, sid: str) -> None:
        self.page.goto(f"{self.base}/flows/{sid}")
        self.page.wait_for_selector("body[data-ready=true]")


@pytest.fixture
def console(browser: Browser, server: Server) -> Iterator[Console]:
    """A new browser context (no cookies) at 1280x800 on a fresh account."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    sid, token = server.new_account("console test")
    try:
        yield Console(page, server, sid, token, errors)
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        context.close()


def json_text(page: Page) -> str:
    """The JSON tab's text (a CodeMirror editor, loaded on the tab's first opening)."""
    page.wait_for_selector("#json[data-ready=true]")
    return str(page.locator("#json").evaluate("e => e.value"))


def fill_json(page: Page, text: str) -> None:
    """Replace the JSON tab's text as typing would (select all, insert)."""
    page.wait_for_selector("#json[data-ready=true]")
    page.fill("#json .cm-content", text)


def login_form(client: httpx.Client) -> str:
    """Open the sign-in page (sets its CSRF cookie) and return the form's token."""
    page = client.get("/console/login")
    assert page.status_code == 200, page.text
    return page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def post_login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    token = login_form(client)
    return client.post(
        "/console/login", data={"csrf": token, "username": username, "password": password}
    )


def http_sign_in(
    base_url: str, username: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Client:
    """A client signed in to the console as a form post would."""
    client = httpx.Client(base_url=base_url, headers=headers)
    response = post_login(client, username, password)
    assert response.status_code == 303, response.text
    return client
