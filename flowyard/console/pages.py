"""HTML pages: small server-rendered shells; each page's module fills it from the JSON API.

Plain string templates with ``html.escape``: the pages hold little markup, so a template
engine would add a dependency and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import cache
from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from flowyard.api.requests import form
from flowyard.api.throttle import client_address, throttle_of
from flowyard.console import assets, session
from flowyard.errors import TwilioError
from flowyard.service import flows as flow_service


@cache
def _csp() -> str:
    digest = hashlib.sha256(assets.import_map().encode()).digest()
    importmap = "'sha256-" + base64.b64encode(digest).decode() + "'"
    return (
        "default-src 'self'; "
        f"script-src 'self' {importmap}; "
        "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


# Modules each page imports beyond common.js and specs.js: preloaded, so no import waterfall.
_MODULES = {
    "editor.js": (
        "canvas.js",
        "ports.js",
        "overlay.js",
        "coverage.js",
        "inspector.js",
        "model.js",
        "trigger.js",
        "minimap.js",
        "search.js",
        "jsontab.js",
    ),
    "execution.js": ("canvas.js", "ports.js", "overlay.js", "jsontree.js", "alerts.js"),
}


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": _csp(),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def _attrs(data: dict[str, str]) -> str:
    return "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())


def _nav(sess: session.Session | None, flow_sid: str | None, current: str) -> str:
    if sess is None:
        return ""
    links = [("flows", "/console/", "Flows")]
    if flow_sid:
        base = f"/console/flows/{flow_sid}"
        links += [
            ("canvas", base, "Canvas"),
            ("revisions", f"{base}/revisions", "Revisions"),
            ("executions", f"{base}/executions", "Executions"),
        ]
    links += [
        ("messages", "/console/messages", "Messages"),
        ("calls", "/console/calls", "Calls"),
        ("event-streams", "/console/event-streams", "Event Streams"),
    ]
    items = "".join(
        f'<a href="{href}"{" aria-current=page" if key == current else ""}>{label}</a>'
        for key, href, label in links
    )
    account = escape(sess.account_sid)
    return (
        f'<nav aria-label="Main">{items}</nav>'
        f'<span class="account" title="{account}">{account[:8]}…</span>'
        '<form method="post" action="/console/logout" class="signout">'
        f'<input type="hidden" name="csrf" value="{escape(sess.csrf)}">'
        '<button type="submit" class="link">Sign out</button></form>'
    )


def render(
    title: str,
    body: str,
    *,
    sess: session.Session | None = None,
    script: str | None = None,
    data: dict[str, str] | None = None,
    flow_sid: str | None = None,
    current: str = "",
    status: int = 200,
) -> HTMLResponse:
    """A whole page: header, main content and the page's module."""
    preload = ""
    module = ""
    if script:
        preload = "".join(
            f'<link rel="modulepreload" href="{assets.url(n)}">'
            for n in (script, "common.js", "specs.js", *_MODULES.get(script, ()))
        )
        module = f'<script type="module" src="{assets.url(script)}"></script>'
    csrf = f'<meta name="csrf-token" content="{escape(sess.csrf)}">' if sess else ""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Flowyard</title>{csrf}"
        f'<link rel="stylesheet" href="{assets.url("console.css")}">'
        f'<link rel="icon" href="{assets.url("favicon.svg")}">'
        f'<script type="importmap">{assets.import_map()}</script>{preload}</head>'
        f"<body{_attrs(data or {})}>"
        '<a class="skip" href="#main">Skip to content</a>'
        '<header class="top"><a class="brand" href="/console/">Flowyard</a>'
        f"{_nav(sess, flow_sid, current)}</header>"
        f'<main id="main" tabindex="-1">{body}</main>'
        '<div id="toast" role="status" aria-live="polite"></div>'
        f"{module}</body></html>"
    )
    return HTMLResponse(page, status, headers=_headers())


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target)}", 303)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console/") and not value.startswith("/console//"):
        return value
    return "/console/"


def _login_page(request: Request, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    next_url = escape(_safe_next(request.query_params.get("next")))
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        '<section class="login panel"><h1>Sign in</h1>'
        "<p>Use your account SID and auth token, or an API key SID and its secret.</p>"
        f'{alert}<form method="post" action="/console/login?next={next_url}">'
        f'<input type="hidden" name="csrf" value="{token}">'
        '<label>Account SID or API key SID<input name="username" required autofocus '
        'autocomplete="username" spellcheck="false" placeholder="AC… or SK…"></label>'
        '<label>Auth token or API key secret<input name="password" type="password" required '
        'autocomplete="current-password"></label>'
        '<button type="submit" class="primary">Sign in</button></form></section>'
    )
    response = render("Sign in", body, status=status)
    session.set_cookie(response, request, session.LOGIN_COOKIE, token, 600)
    return response


async def login(request: Request) -> Response:
    """GET shows the form; POST checks credentials and starts a session."""
    if request.method == "GET":
        if session.read(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return _login_page(request)
    params = await form(request)
    expected = request.cookies.get(session.LOGIN_COOKIE, "")
    given = params.get("csrf") or ""
    if not expected or not session.same_secret(given, expected):
        return _login_page(request, "Your sign-in form expired; please try again.", 403)
    username = (params.get("username") or "").strip()
    password = (params.get("password") or "").strip()
    throttle, address = throttle_of(request), client_address(request)
    try:
        throttle.check(address)
    except TwilioError as exc:
        return _throttled(request, exc)
    account_sid = request.app.state.credentials.account_for(username, password)
    key = session.session_key(request, account_sid, username) if account_sid else None
    if account_sid is None or key is None:
        refusal = throttle.failed(address, username)
        if refusal.status == 429:
            return _throttled(request, refusal)
        return _login_page(request, "Those credentials were not accepted.", 401)
    response = RedirectResponse(_safe_next(request.query_params.get("next")), 303)
    cookie = session.issue(key, account_sid, username)
    session.set_cookie(response, request, session.COOKIE, cookie, session.LIFETIME)
    session.clear_cookie(response, request, session.LOGIN_COOKIE)
    return response


def _throttled(request: Request, error: TwilioError) -> Response:
    """The form again, as 429 with Retry-After: too many failed sign-ins."""
    wait = (error.headers or {}).get("Retry-After", "60")
    response = _login_page(
        request, f"Too many failed sign-ins; try again in {wait} s (error 20429).", 429
    )
    response.headers["Retry-After"] = wait
    return response


async def logout(request: Request) -> Response:
    """End the session (POST with the CSRF token, so another site cannot sign you out)."""
    sess = session.read(request)
    params = await form(request)
    if sess is not None and not session.same_secret(params.get("csrf") or "", sess.csrf):
        return Response("Missing or wrong CSRF token", 403, media_type="text/plain")
    response = RedirectResponse("/console/login", 303)
    session.clear_cookie(response, request, session.COOKIE)
    return response


async def root(_request: Request) -> Response:
    return RedirectResponse("/console/", 308)


def not_found_page(sess: session.Session, what: str) -> HTMLResponse:
    body = (
        f'<section class="panel"><h1>Not found</h1><p class="error" role="alert">{escape(what)} '
        'does not exist in this account.</p><p><a href="/console/">Back to your flows</a></p>'
        "</section>"
    )
    return render("Not found", body, sess=sess, status=404)


async def flows_page(request: Request) -> Response:
    sess = session.read(request)
    if sess is None:
        return _to_login(request)
    return render("Flows", FLOWS_BODY, sess=sess, script="flows.js", current="flows")


async def flow_page(request: Request) -> Response:
    """The canvas, revisions and executions pages of one flow."""
    sess = session.read(request)
    if sess is None:
        return _to_login(request)
    sid = request.path_params["sid"]
    try:
        flow = flow_service.get_flow(request.app.state.db, sess.account_sid, sid)
    except TwilioError:
        return not_found_page(sess, f"Flow {sid}")
    view = request.path_params.get("view", "canvas")
    execution = request.path_params.get("execution", "")
    if execution:
        view = "executions"
        try:
            from flowyard.service.executions import get_execution

            get_execution(request.app.state.db, sess.account_sid, sid, execution)
        except TwilioError:
            return not_found_page(sess, f"Execution {execution}")
    if view not in _VIEWS:
        return not_found_page(sess, f"Page {view}")
    script, body = _VIEWS["execution" if execution else view]
    title = flow.friendly_name + {"canvas": "", "revisions": " · Revisions"}.get(
        view, " · Executions"
    )
    data = {"flow": sid, "execution": execution} if execution else {"flow": sid}
    if view == "canvas":
        data.update(_trigger_urls(request, sess.account_sid, sid))
    return render(
        title,
        body,
        sess=sess,
        script=script,
        data=data,
        flow_sid=sid,
        current="executions" if execution else view,
    )


def _trigger_urls(request: Request, account_sid: str, flow_sid: str) -> dict[str, str]:
    """What Studio's Trigger widget shows: where Twilio posts (the public URL when set, as
    signatures are checked against it) and where REST executions start."""
    base = (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")
    return {
        "webhook": f"{base}/v1/Accounts/{account_sid}/Flows/{flow_sid}",
        "rest": f"{base}/v2/Flows/{flow_sid}/Executions",
    }


FLOWS_BODY = """
<div class="page-head"><h1>Flows</h1>
<div class="actions">
<form id="new-flow" class="inline"><label>New flow name
<input name="name" required placeholder="My flow"></label>
<button type="submit" class="primary">Create</button></form>
<form id="import-flow" class="inline"><label>Import a Studio JSON file
<input type="file" name="file" accept=".json,application/json" required></label>
<label>Status<select name="status"><option value="draft">draft</option>
<option value="published">published</option></select></label>
<button type="submit">Import</button></form>
</div></div>
<div id="import-errors" class="problems" hidden></div>
<form id="flow-filter" class="inline filters" role="search"><label>Search
<input type="search" name="q" autocomplete="off" spellcheck="false"
placeholder="Name or FW…"></label>
<label>Sort by <select name="sort"><option value="updated">last change, newest first</option>
<option value="name">name, A to Z</option></select></label></form>
<div class="table-wrap"><table id="flows" class="list"><caption class="sr">Your flows</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Revision</th>
<th scope="col">Last change</th><th scope="col">Active executions</th>
<th scope="col"><span class="sr">Actions</span></th></tr></thead>
<tbody><tr><td colspan="6" class="muted">Loading…</td></tr></tbody></table></div>
"""

EDITOR_BODY = """
<div class="editor">
<div class="toolbar" role="toolbar" aria-label="Flow">
<label class="flow-name">Flow name <input id="flow-name" spellcheck="false"></label>
<span id="flow-status" class="badge"></span>
<span id="problem-summary" class="summary" aria-live="polite"></span>
<span class="spacer"></span>
<div class="tabs" role="tablist">
<button role="tab" id="tab-canvas" aria-selected="true" aria-controls="canvas-pane">Canvas</button>
<button role="tab" id="tab-json" aria-selected="false" aria-controls="json-pane">JSON</button>
</div>
<label class="traffic">Traffic <select id="traffic"><option value="">off</option>
<option value="1">last hour</option><option value="24">last 24 h</option>
<option value="168">last 7 days</option><option value="720">last 30 days</option>
<option value="all">all time</option></select></label>
<label class="traffic" title="Mark the transitions no execution took in this period (a split's
conditions that lead to the same widget count together: steps do not record which matched)">
<input type="checkbox" id="never-taken"> never taken</label>
<button id="coverage-load" type="button"
title="Show a coverage file (flowyard test --coverage-json) on the canvas">Coverage…</button>
<input type="file" id="coverage-file" accept=".json,application/json" hidden
aria-label="Coverage file">
<button id="toggle-sim" aria-pressed="false">Simulator</button>
<button id="save" class="primary">Save…</button>
</div>
<div id="coverage-bar" class="coverage-bar" hidden></div>
<div id="trigger-urls" class="trigger-urls" hidden></div>
<div class="workspace">
<aside id="palette" class="palette" aria-label="Add a widget"></aside>
<section id="canvas-pane" class="pane" aria-label="Canvas"></section>
<section id="json-pane" class="pane json-pane" hidden aria-label="JSON definition">
<div id="json" class="json-editor"></div>
<p id="json-error" class="error" role="alert"></p></section>
<aside id="side" class="side" aria-label="Details"></aside>
</div>
<dialog id="save-dialog"><form method="dialog" id="save-form"><h2>Save a new revision</h2>
<label>Commit message<input name="message" placeholder="What changed?"></label>
<div id="save-problems" class="problems"></div>
<div class="row"><button value="cancel" formnovalidate>Cancel</button>
<button value="draft">Save draft</button>
<button value="published" class="primary">Publish</button></div></form></dialog>
</div>
"""

REVISIONS_BODY = """
<div class="page-head"><h1>Revisions</h1></div>
<div class="two-col">
<section aria-labelledby="rev-h"><h2 id="rev-h" class="sr">Revision list</h2>
<form id="compare" class="inline"><label>From <select name="from"></select></label>
<label>To <select name="to"></select></label>
<button type="submit">Compare</button></form>
<div class="table-wrap"><table id="revisions" class="list"><thead><tr>
<th scope="col">Revision</th><th scope="col">Status</th><th scope="col">Commit message</th>
<th scope="col">Date</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
<tbody></tbody></table></div>
<section id="diff" aria-live="polite"></section></section>
<section class="panel" aria-labelledby="tu-h"><h2 id="tu-h">Test users</h2>
<p class="muted">Contacts (phone numbers or client identities) that run the latest revision,
draft or not. One per line.</p>
<form id="test-users"><textarea name="users" rows="6" spellcheck="false"
aria-label="Test users, one per line"></textarea>
<button type="submit">Save test users</button></form></section>
</div>
"""

EXECUTIONS_BODY = """
<div class="page-head"><h1>Executions</h1></div>
<form id="filters" class="inline filters"><label>Status <select name="status">
<option value="">any</option><option value="active">active</option>
<option value="ended">ended</option></select></label>
<label>From <input type="date" name="from"></label>
<label>To <input type="date" name="to"></label>
<label>Contact <input type="search" name="contact" maxlength="100" autocomplete="off"
placeholder="+1555…"></label>
<button type="submit">Filter</button></form>
<div class="table-wrap"><table id="executions" class="list"><thead><tr>
<th scope="col">Execution</th><th scope="col">Contact</th><th scope="col">Status</th>
<th scope="col">Started</th><th scope="col">Last change</th><th scope="col">Revision</th>
</tr></thead><tbody></tbody></table></div>
<button id="more" hidden>Load more</button>
"""

EXECUTION_BODY = """
<div class="page-head"><h1 id="exec-title">Execution</h1>
<div class="actions"><button id="end">End execution</button>
<button id="delete" class="danger">Delete</button></div></div>
<p id="exec-meta" class="muted"></p>
<div id="exec-alerts" class="exec-alerts" aria-label="Alerts"></div>
<div class="exec-layout">
<section aria-labelledby="tl-h"><h2 id="tl-h">Steps</h2>
<ol id="timeline" class="timeline"></ol></section>
<section id="exec-canvas" class="pane small" aria-label="Path on the canvas"></section>
<section aria-labelledby="ctx-h" class="context"><h2 id="ctx-h">Context
<span id="ctx-which" class="muted"></span></h2><div id="context" class="jsontree"></div>
</section></div>
"""

_VIEWS = {
    "canvas": ("editor.js", EDITOR_BODY),
    "revisions": ("revisions.js", REVISIONS_BODY),
    "executions": ("executions.js", EXECUTIONS_BODY),
    "execution": ("execution.js", EXECUTION_BODY),
}
