"""Console hardening over plain HTTP: cookie flags, security headers, sessions that end with
their credential, and a sign-in form that never answers 5xx."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import sqlalchemy as sa

from flowyard.store import accounts, create_db_engine
from tests.api.test_auth import store_key
from tests.api.test_credentials import REVOCATION_DEADLINE, wait_until
from tests.conftest import Server
from tests.console.conftest import http_sign_in, login_form, post_login


def _in_database(server: Server, change: Callable[[sa.Connection], object]) -> None:
    """Change credentials as the CLI does (tests/api/test_credentials.py runs the CLI itself)."""
    db = create_db_engine(server.database_url)
    with db.begin() as conn:
        change(conn)
    db.dispose()


def _set_cookie(response: httpx.Response, name: str) -> str:
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith(name + "="))


def test_session_cookie_flags(server: Server) -> None:
    sid, token = server.new_account()
    with httpx.Client(base_url=server.base_url) as client:
        response = post_login(client, sid, token)
        assert response.status_code == 303
        cookie = _set_cookie(response, "fy_session").lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
        assert "secure" not in cookie  # plain http: a Secure cookie would never come back
        assert token not in cookie
    # Over https (as a TLS-terminating proxy on loopback reports it), cookies are Secure.
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.base_url, headers=https) as client:
        page = client.get("/console/login")
        login_cookie = _set_cookie(page, "fy_login")
        assert "; secure" in login_cookie.lower()
        # httpx keeps Secure cookies for https URLs: send it back by hand, as the proxy would.
        response = client.post(
            "/console/login",
            data={
                "csrf": page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0],
                "username": sid,
                "password": token,
            },
            headers={"Cookie": login_cookie.split(";", 1)[0]},
        )
        assert response.status_code == 303, response.text
        assert "; secure" in _set_cookie(response, "fy_session").lower()


def test_security_headers_on_every_console_response(server: Server) -> None:
    sid, token = server.new_account()
    client = http_sign_in(server.base_url, sid, token)
    page = client.get("/console/")
    assert page.status_code == 200
    static = re.search(r'href="(/console/static/console\.css\?v=\w+)"', page.text)
    assert static is not None
    responses = {
        "page": page,
        "login page": httpx.get(server.base_url + "/console/login"),
        "redirect": httpx.get(server.base_url + "/console/"),
        "json": client.get("/console/api/flows"),
        "refused json": httpx.get(server.base_url + "/console/api/flows"),
        "static": client.get(static.group(1)),
        "missing": client.get("/console/static/nope.js"),
    }
    for what, response in responses.items():
        headers = response.headers
        csp = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, what
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
        assert headers.get("x-content-type-options") == "nosniff", what
        assert headers.get("referrer-policy") == "same-origin", what
        assert headers.get("x-frame-options") == "DENY", what
    assert "script-src 'self' 'sha256-" in page.headers["content-security-policy"]
    # No inline script but the import map (allowed by its hash), and no inline handlers.
    for html in (page.text, responses["login page"].text):
        scripts = re.findall(r"<script([^>]*)>", html)
        assert all('src="' in attrs or attrs == ' type="importmap"' for attrs in scripts)
        assert not re.search(r"\son[a-z]+\s*=", html)
    # The REST API is left alone (its clients are SDKs, not browsers).
    assert "content-security-policy" not in httpx.get(server.base_url + "/v2/Flows").headers


def test_revoked_key_ends_its_console_sessions(server: Server) -> None:
    sid, token = server.new_account()
    key, secret = store_key(server, sid)
    other_key, other_secret = store_key(server, sid)
    by_key = http_sign_in(server.base_url, key, secret)
    by_other_key = http_sign_in(server.base_url, other_key, other_secret)
    by_token = http_sign_in(server.base_url, sid, token)
    for client in (by_key, by_other_key, by_token):
        assert client.get("/console/api/flows").status_code == 200
    _in_database(server, lambda conn: accounts.delete_api_key(conn, key))
    took = wait_until(
        lambda: by_key.get("/console/api/flows").status_code == 401,
        REVOCATION_DEADLINE,
        "session of a revoked key still open",
    )
    assert took < REVOCATION_DEADLINE
    assert by_key.get("/console/").status_code == 303  # pages send it back to sign in
    assert post_login(httpx.Client(base_url=server.base_url), key, secret).status_code == 401
    # Sessions opened with other credentials of the account are untouched.
    assert by_other_key.get("/console/api/flows").status_code == 200
    assert by_token.get("/console/api/flows").status_code == 200


def test_rotated_token_ends_its_console_sessions_not_the_keys(server: Server) -> None:
    sid, token = server.new_account()
    key, secret = store_key(server, sid)
    by_token = http_sign_in(server.base_url, sid, token)
    by_key = http_sign_in(server.base_url, key, secret)
    _in_database(server, lambda conn: accounts.rotate_token(conn, sid))
    wait_until(
        lambda: by_token.get("/console/api/flows").status_code == 401,
        REVOCATION_DEADLINE,
        "session of a rotated token still open",
    )
    assert by_key.get("/console/api/flows").status_code == 200


def test_sign_in_with_bad_input_never_fails_the_server(server: Server) -> None:
    sid, token = server.new_account()
    cases = [
        (sid, "é"),
        ("AC" + "e" * 32, "é"),
        (sid, token + "é" * 1000),
        ("é" * 70, "x"),
        (sid + "x" * 5000, token),
    ]
    with httpx.Client(base_url=server.base_url) as client:
        bodies = set()
        for username, password in cases:
            response = post_login(client, username, password)
            assert response.status_code == 401, (username[:40], response.status_code)
            bodies.add(re.sub(r'value="[^"]*"', "", response.text))
        assert len(bodies) == 1  # the same page whether the account exists or not
        # A NUL byte is refused before anyone looks at the credentials (no form field may
        # hold one): the same 400 for an existing account and an unknown one.
        for username, password in ((sid, "\x00"), ("AC\x00" + "0" * 31, token)):
            response = post_login(client, username, password)
            assert response.status_code == 400, (username[:40], response.status_code)
        raw = client.post(
            "/console/login",
            content=b"csrf=" + login_form(client).encode() + b"&username=%FF%FE&password=%C3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert raw.status_code == 401
        # CSRF tokens are compared as bytes: any character is a mismatch, not a 500.
        login_form(client)
        forged = client.post("/console/login", data={"csrf": "é", "username": sid, "password": "x"})
        assert forged.status_code == 403
    signed_in = http_sign_in(server.base_url, sid, token)
    for headers in ({"X-CSRF-Token": "é".encode()}, {"X-CSRF-Token": b"\xff\xfe"}):
        assert signed_in.post("/console/api/flows", json={}, headers=headers).status_code == 403
    assert signed_in.post("/console/logout", data={"csrf": "é"}).status_code == 403
