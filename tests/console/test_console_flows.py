"""Console: sign-in, flows list, import, canvas editing, revisions, isolation between accounts."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from flowyard.engine.specs import WIDGET_SPECS
from flowyard.store import accounts, create_db_engine
from tests.conftest import MINIMAL_DEFINITION, shared_path
from tests.console.conftest import Console, fill_json, json_text

ASTROLOGY = "Eclairemoy__pride-astrology__studio_flow.json"


def _drag(page: Page, x1: float, y1: float, x2: float, y2: float) -> None:
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move(x2, y2, steps=8)
    page.mouse.up()


def _center(page: Page, selector: str) -> tuple[float, float]:
    """The middle of an element; the canvas may redraw (new nodes) right after an edit."""
    for _ in range(50):
        page.locator(selector).wait_for()
        box = page.locator(selector).bounding_box()
        if box is not None:
            return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.wait_for_timeout(50)
    raise AssertionError(f"{selector} has no box")


def _import(console: Console, filename: str, status: str = "draft") -> str:
    page = console.page
    page.set_input_files("#import-flow input[type=file]", str(shared_path("flows", filename)))
    page.select_option("#import-flow select[name=status]", status)
    page.click("#import-flow button[type=submit]")
    page.wait_for_url(console.base + "/flows/FW*")
    page.wait_for_selector("body[data-ready=true]")
    return page.url.rsplit("/", 1)[-1]


def _flow(console: Console, sid: str) -> dict:
    with console.rest() as rest:
        response = rest.get(f"/v2/Flows/{sid}")
    assert response.status_code == 200, response.text
    return response.json()


def test_sign_in_rejects_bad_credentials_and_sets_a_safe_cookie(console: Console) -> None:
    page = console.page
    page.goto(console.base + "/")
    assert "/console/login" in page.url
    page.fill("input[name=username]", console.account_sid)
    page.fill("input[name=password]", "not the token")
    page.click("form button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("not accepted")

    console.sign_in()
    cookie = next(c for c in page.context.cookies() if c["name"] == "fy_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    assert console.auth_token not in cookie["value"]
    console.shot("flows-empty")

    page.click("text=Sign out")
    page.wait_for_url("**/console/login")
    page.goto(console.base + "/")
    assert "/console/login" in page.url


def test_api_key_signs_in_as_its_account(console: Console) -> None:
    db = create_db_engine(console.server.database_url)
    with db.begin() as conn:
        key_sid, secret = accounts.create_api_key(conn, console.account_sid, "console")
    db.dispose()
    flow_sid = console.create_flow("Keyed", MINIMAL_DEFINITION)
    console.sign_in(key_sid, secret)
    expect(console.page.locator(f'#flows tr[data-sid="{flow_sid}"]')).to_contain_text("Keyed")


def test_import_shows_every_widget_on_the_canvas(console: Console) -> None:
    definition = json.loads(shared_path("flows", ASTROLOGY).read_text())
    console.sign_in()
    sid = _import(console, ASTROLOGY, status="published")
    page = console.page
    cards = page.locator("svg.canvas .card")
    expect(cards).to_have_count(len(definition["states"]))
    names = {cards.nth(i).get_attribute("data-widget") for i in range(cards.count())}
    assert names == {s["name"] for s in definition["states"]}
    # Each card shows its events, and each transition with a next is an arrow.
    arrows = sum(1 for s in definition["states"] for t in s["transitions"] if t.get("next"))
    expect(page.locator("svg.canvas path.edge")).to_have_count(arrows)
    expect(page.locator('.card[data-widget="ask_sign"] .port')).to_have_count(3)
    expect(page.locator("#flow-status")).to_contain_text("published")
    console.shot("canvas")

    # A click opens the inspector with the widget's properties.
    page.click('.card[data-widget="ask_sign"] text.name')
    expect(page.locator("#side h2")).to_have_text("ask_sign")
    expect(page.locator('#side textarea[name="body"]')).to_have_value(
        definition["states"][1]["properties"]["body"]
    )
    console.shot("inspector")

    page.goto(console.base + "/")
    row = page.locator(f'#flows tr[data-sid="{sid}"]')
    expect(row).to_contain_text("published")
    expect(row.locator("td").nth(2)).to_have_text("1")
    expect(row.locator("td").nth(4)).to_have_text("0")
    console.shot("flows")

    # Export answers the definition as a download, same as what was imported.
    with page.expect_download() as info:
        row.locator("text=Export").click()
    exported = json.loads(Path(info.value.path()).read_text())
    assert exported == definition


def test_move_add_connect_and_save_a_revision(console: Console) -> None:
    console.sign_in()
    sid = _import(console, ASTROLOGY)
    page = console.page
    before = _flow(console, sid)["definition"]
    old = next(s for s in before["states"] if s["name"] == "send_waiting")["properties"]["offset"]

    x, y = _center(page, '.card[data-widget="send_waiting"] text.name')
    _drag(page, x, y, x + 120, y + 60)
    page.click('button.add[data-type="send-message"]')
    expect(page.locator('.card[data-widget="send_message_1"]')).to_have_count(1)
    page.fill('#side textarea[name="body"]', "See you soon")
    port_x, port_y = _center(page, '.card[data-widget="ask_sign"] .port[data-event="timeout"] .dot')
    to_x, to_y = _center(page, '.card[data-widget="send_message_1"] text.name')
    _drag(page, port_x, port_y, to_x, to_y)
    expect(page.locator('path.edge[data-from="ask_sign"][data-event="timeout"]')).to_have_attribute(
        "data-to", "send_message_1"
    )
    expect(page.locator("#problem-summary")).to_contain_text("Valid")
    console.shot("canvas-edited")

    page.click("#save")
    page.fill("#save-form input[name=message]", "Move, add a goodbye")
    page.click("#save-form button[value=published]")
    expect(page.locator("#flow-status")).to_have_text("published · revision 2")

    flow = _flow(console, sid)
    assert flow["revision"] == 2 and flow["commit_message"] == "Move, add a goodbye"
    states = {s["name"]: s for s in flow["definition"]["states"]}
    moved = states["send_waiting"]["properties"]["offset"]
    assert moved["x"] > old["x"] + 60 and moved["y"] > old["y"] + 20
    assert states["send_message_1"]["properties"]["body"] == "See you soon"
    timeout = next(t for t in states["ask_sign"]["transitions"] if t["event"] == "timeout")
    assert timeout["next"] == "send_message_1"

    # Dragging the connected event to empty canvas disconnects it again.
    port_x, port_y = _center(page, '.card[data-widget="ask_sign"] .port[data-event="timeout"] .dot')
    _drag(page, port_x, port_y, port_x + 5, port_y + 400)
    expect(page.locator('path.edge[data-from="ask_sign"][data-event="timeout"]')).to_have_count(0)

    page.click("nav >> text=Revisions")
    expect(page.locator("#revisions tbody tr")).to_have_count(2)
    expect(page.locator("#revisions tbody")).to_contain_text("Move, add a goodbye")
    diff = page.locator("#diff")
    expect(diff.locator('.widget.added[data-widget="send_message_1"]')).to_have_count(1)
    expect(diff.locator('.widget[data-widget="ask_sign"]')).to_contain_text("send_message_1")
    # The move alone is not a difference.
    expect(diff.locator('[data-widget="send_waiting"]')).to_have_count(0)
    console.shot("revisions")


def test_validation_errors_are_shown_on_their_widget_and_block_the_save(console: Console) -> None:
    sid = console.create_flow("Checks", MINIMAL_DEFINITION)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.click('button.add[data-type="send-message"]')
    card = page.locator('.card[data-widget="send_message_1"]')
    expect(card).to_have_class("card cat-messaging selected has-error")
    expect(page.locator("#side .problems-list")).to_contain_text("one of body or content_sid")
    page.click("#save")
    page.click("#save-form button[value=draft]")
    expect(page.locator("#save-problems")).to_contain_text("Not saved: 1 error")
    console.shot("save-refused")
    page.click("#save-form button[value=cancel]")
    assert _flow(console, sid)["revision"] == 1

    page.fill('#side textarea[name="body"]', "hello")
    expect(card).not_to_have_class("has-error")
    expect(page.locator("#problem-summary")).to_contain_text("0 errors")


def test_json_editor_and_canvas_stay_in_sync(console: Console) -> None:
    sid = console.create_flow("Sync", MINIMAL_DEFINITION)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.click("#tab-json")
    text = json.loads(json_text(page))
    assert text["states"][0]["name"] == "Trigger"
    text["states"].append(
        {
            "name": "greet",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {"offset": {"x": 0, "y": 200}, "body": "Hi", "from": "a", "to": "b"},
        }
    )
    text["states"][0]["transitions"][0]["next"] = "greet"
    fill_json(page, json.dumps(text))
    page.click("#tab-canvas")
    expect(page.locator('.card[data-widget="greet"]')).to_have_count(1)
    expect(page.locator('path.edge[data-from="Trigger"][data-to="greet"]')).to_have_count(1)

    # Rename in the inspector: the JSON follows, transitions included.
    page.click('.card[data-widget="greet"] text.name')
    page.fill('#side input[name="widget-name"]', "welcome")
    page.press('#side input[name="widget-name"]', "Enter")
    expect(page.locator('.card[data-widget="welcome"]')).to_have_count(1)
    page.click("#tab-json")
    synced = json.loads(json_text(page))
    assert synced["states"][1]["name"] == "welcome"
    assert synced["states"][0]["transitions"][0]["next"] == "welcome"
    fill_json(page, "{ not json")
    expect(page.locator("#json-error")).to_contain_text("Not valid JSON")
    console.shot("json-editor")


def test_keyboard_selects_and_moves_a_widget(console: Console) -> None:
    sid = console.create_flow("Keys", MINIMAL_DEFINITION)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    page.focus('.card[data-widget="Trigger"]')
    page.keyboard.press("Enter")
    expect(page.locator("#side h2")).to_have_text("Trigger")
    page.focus('.card[data-widget="Trigger"]')
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowDown")
    page.click("#tab-json")
    offset = json.loads(json_text(page))["states"][0]["properties"]["offset"]
    assert offset == {"x": 50, "y": 10}


def test_restore_revision_and_edit_test_users(console: Console) -> None:
    sid = console.create_flow("Restore me", MINIMAL_DEFINITION)
    changed = json.loads(json.dumps(MINIMAL_DEFINITION))
    changed["description"] = "second"
    with console.rest() as rest:
        response = rest.post(
            f"/v2/Flows/{sid}", data={"Status": "draft", "Definition": json.dumps(changed)}
        )
        assert response.status_code == 200, response.text
    console.sign_in()
    page = console.page
    page.goto(f"{console.base}/flows/{sid}/revisions")
    expect(page.locator("#diff")).to_contain_text("second")
    page.click('#revisions tr[data-revision="1"] button')
    expect(page.locator("#revisions tbody tr")).to_have_count(3)
    flow = _flow(console, sid)
    assert flow["revision"] == 3
    assert flow["definition"] == MINIMAL_DEFINITION
    assert flow["commit_message"] == "Restored revision 1"

    page.fill("#test-users textarea", "+15550001111\n\n+15550002222\n")
    page.click("#test-users button")
    expect(page.locator("#toast")).to_contain_text("Saved 2 test users")
    with console.rest() as rest:
        users = rest.get(f"/v2/Flows/{sid}/TestUsers").json()["test_users"]
    assert users == ["+15550001111", "+15550002222"]


def test_another_accounts_flow_is_refused(console: Console) -> None:
    other_sid, other_token = console.server.new_account("someone else")
    with httpx.Client(base_url=console.server.base_url, auth=(other_sid, other_token)) as rest:
        response = rest.post(
            "/v2/Flows",
            data={
                "FriendlyName": "Private",
                "Status": "published",
                "Definition": json.dumps(MINIMAL_DEFINITION),
            },
        )
    foreign = response.json()["sid"]
    console.sign_in()
    page = console.page
    expect(page.locator(f'#flows tr[data-sid="{foreign}"]')).to_have_count(0)
    response = page.goto(f"{console.base}/flows/{foreign}")
    assert response is not None and response.status == 404
    expect(page.locator("[role=alert]")).to_contain_text("does not exist in this account")
    console.shot("other-account-refused")
    for path in ("", "/revisions", "/export", "/diff?from=1&to=1"):
        api = page.request.get(f"{console.base}/api/flows/{foreign}{path}")
        assert api.status == 404, path


def test_changes_need_the_csrf_token(console: Console) -> None:
    console.sign_in()
    request = console.page.request
    body = {"friendly_name": "forged", "status": "draft"}
    assert request.post(console.base + "/api/flows", data=body).status == 403
    token = console.page.locator('meta[name="csrf-token"]').get_attribute("content")
    headers = {"X-CSRF-Token": token or ""}
    forged_origin = {**headers, "Origin": "http://evil.example"}
    assert request.post(console.base + "/api/flows", data=body, headers=forged_origin).status == 403
    assert request.post(console.base + "/api/flows", data=body, headers=headers).status == 201
    # Without the session cookie the API refuses outright.
    anonymous = httpx.post(console.base + "/api/flows", json=body, headers=headers)
    assert anonymous.status_code == 401


def test_static_assets_are_cacheable(console: Console) -> None:
    console.sign_in()
    page = console.page
    css = page.locator('link[rel="stylesheet"]').get_attribute("href")
    assert css and "?v=" in css
    response = httpx.get(console.server.base_url + css, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    plain = httpx.get(console.server.base_url + css.split("?")[0])
    assert plain.headers["cache-control"] == "no-cache"
    again = httpx.get(
        console.server.base_url + css, headers={"If-None-Match": plain.headers["etag"]}
    )
    assert again.status_code == 304


def test_phone_width_pages_fit_the_screen(console: Console) -> None:
    console.sign_in()
    sid = _import(console, ASTROLOGY)
    page = console.page
    page.set_viewport_size({"width": 390, "height": 844})
    for url, name in (
        (console.base + "/", "flows-phone"),
        (f"{console.base}/flows/{sid}", "canvas-phone"),
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, (name, width)
        console.shot(name)
    expect(page.locator("svg.canvas .card")).to_have_count(13)


def _http_sign_in(console: Console) -> httpx.Client:
    """Sign in without a browser, as a form post would."""
    client = httpx.Client(base_url=console.server.base_url)
    page = client.get("/console/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/console/login",
        data={"csrf": token, "username": console.account_sid, "password": console.auth_token},
    )
    assert response.status_code == 303, response.text
    return client


def test_tampered_or_outdated_sessions_are_refused(console: Console) -> None:
    client = _http_sign_in(console)
    assert client.get("/console/api/flows").status_code == 200
    cookie = client.cookies["fy_session"]
    payload, signature = cookie.split(".")
    other_sid, _ = console.server.new_account("victim")
    forged = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "==").replace(
            console.account_sid.encode(), other_sid.encode()
        )
    ).rstrip(b"=")
    client.cookies.set("fy_session", f"{forged.decode()}.{signature}", path="/console")
    assert client.get("/console/api/flows").status_code == 401

    # A login form post without its cookie (another site's form) is refused.
    stranger = httpx.post(
        console.server.base_url + "/console/login",
        data={"csrf": "x", "username": console.account_sid, "password": console.auth_token},
    )
    assert stranger.status_code == 403 and "fy_session" not in stranger.cookies

    # Rotating the auth token ends the account's console sessions.
    client = _http_sign_in(console)
    db = create_db_engine(console.server.database_url)
    with db.begin() as conn:
        accounts.upsert_account(conn, console.account_sid, "a-new-token")
    db.dispose()
    deadline = time.monotonic() + 10
    while client.get("/console/api/flows").status_code == 200:
        assert time.monotonic() < deadline, "session survived a token rotation"
        time.sleep(0.25)
    assert client.get("/console/api/flows").status_code == 401


def test_palette_pan_zoom_delete_widget_and_delete_flow(console: Console) -> None:
    definition = json.loads(json.dumps(MINIMAL_DEFINITION))
    definition["states"].append(
        {
            "name": "bye",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {"offset": {"x": 0, "y": 220}, "body": "Bye", "from": "a", "to": "b"},
        }
    )
    definition["states"][0]["transitions"][0]["next"] = "bye"
    sid = console.create_flow("Doomed", definition)
    console.sign_in()
    console.open_flow(sid)
    page = console.page
    palette = page.locator("#palette button.add")
    expect(palette).to_have_count(len(WIDGET_SPECS))
    assert set(palette.evaluate_all("els => els.map(e => e.dataset.type)")) == set(WIDGET_SPECS)

    viewport = page.locator("svg.canvas g.viewport")
    before = viewport.get_attribute("transform")
    page.click('button[aria-label="Zoom in"]')
    zoomed = viewport.get_attribute("transform")
    assert zoomed != before and "scale(1)" not in (zoomed or "")
    x, y = _center(page, "svg.canvas")
    _drag(page, x + 200, y + 150, x + 260, y + 190)  # empty canvas: a pan
    assert viewport.get_attribute("transform") != zoomed

    page.click('.card[data-widget="bye"] text.name')
    page.click("#side button.danger >> text=Delete bye")
    expect(page.locator('.card[data-widget="bye"]')).to_have_count(0)
    page.click("#tab-json")
    edited = json.loads(json_text(page))
    assert [s["name"] for s in edited["states"]] == ["Trigger"]
    assert "next" not in edited["states"][0]["transitions"][0]

    page.goto(console.base + "/")
    page.click(f'#flows tr[data-sid="{sid}"] button.danger')
    expect(page.locator(f'#flows tr[data-sid="{sid}"]')).to_have_count(0)
    with console.rest() as rest:
        assert rest.get(f"/v2/Flows/{sid}").status_code == 404
