"""Credentials: bad encodings answer like wrong tokens; keys listed, revoked and tokens rotated
from the CLI stop working within 5 s, on every server process sharing the database."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.test_auth import assert_401, basic, store_key
from tests.conftest import BACKENDS, Server, _database_url, _drop_database, start_server

REVOCATION_DEADLINE = 5.0


def run_cli(database_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m flowyard ARGS --database-url URL``, as an operator would type it."""
    return subprocess.run(
        [sys.executable, "-m", "flowyard", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def wait_until(condition: Callable[[], bool], deadline: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took, or fail after ``deadline`` s."""
    start = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - start
        assert elapsed < deadline, f"{what} after {elapsed:.1f} s"
        time.sleep(0.05)
    return time.monotonic() - start


def _raw(user: bytes, password: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user + b":" + password).decode()}


def _refusal(response: httpx.Response) -> tuple[int, bytes, str]:
    return response.status_code, response.content, response.headers.get("www-authenticate", "")


# --- bad encodings and sizes -------------------------------------------------------------------


def test_non_ascii_password_is_refused_exactly_like_an_unknown_account(server: Server) -> None:
    sid, token = server.new_account()
    unknown = "AC" + "e" * 32
    with httpx.Client(base_url=server.base_url) as http:
        for password in ("é".encode(), "密码".encode(), b"\xe9", token.encode() + "é".encode()):
            known = http.get("/v2/Flows", headers=_raw(sid.encode(), password))
            nobody = http.get("/v2/Flows", headers=_raw(unknown.encode(), password))
            assert_401(known)
            assert _refusal(known) == _refusal(nobody), password
        # Non-ASCII in the header itself (not base64 at all).
        assert_401(http.get("/v2/Flows", headers={"Authorization": "Basic w6k6w6k=é".encode()}))
        assert http.get("/v2/Flows", auth=(sid, token)).status_code == 200


def test_over_long_credentials_are_401(server: Server) -> None:
    sid, token = server.new_account()
    with httpx.Client(base_url=server.base_url) as http:
        for user, password in (
            (sid, token + "x" * 4000),
            (sid + "0" * 100, token),
            ("AC" + "0" * 5000, "x"),
            (sid, "\x00" * 300),
            ("AC\x00" + "0" * 30, token),
        ):
            assert_401(http.get("/v2/Flows", headers={"Authorization": basic(user, password)}))
            assert_401(http.post("/v2/Flows", headers={"Authorization": basic(user, password)}))


# --- CLI: list, revoke, rotate -----------------------------------------------------------------


def test_keys_list_and_revoke_from_the_cli(server: Server) -> None:
    sid, _ = server.new_account()
    first, first_secret = store_key(server, sid)
    second, second_secret = store_key(server, sid)
    listed = json.loads(
        run_cli(server.database_url, "keys", "list", "--account", sid, "--json").stdout
    )
    assert sorted(k["sid"] for k in listed) == sorted([first, second])
    assert all(k["account_sid"] == sid and k["date_created"].endswith("Z") for k in listed)
    assert first_secret not in json.dumps(listed)
    with httpx.Client(base_url=server.base_url) as http:
        assert http.get("/v2/Flows", auth=(first, first_secret)).status_code == 200
        assert run_cli(server.database_url, "keys", "revoke", first).stdout.strip() == (
            f"Revoked {first}"
        )
        took = wait_until(
            lambda: http.get("/v2/Flows", auth=(first, first_secret)).status_code == 401,
            REVOCATION_DEADLINE,
            "revoked key still accepted",
        )
        assert took < REVOCATION_DEADLINE
        assert_401(http.get("/v2/Flows", auth=(first, first_secret)))
        assert http.get("/v2/Flows", auth=(second, second_secret)).status_code == 200
    table = run_cli(server.database_url, "keys", "list", "--account", sid).stdout
    assert second in table and first not in table
    again = run_cli(server.database_url, "keys", "revoke", first, check=False)
    assert again.returncode == 1 and "No API key" in again.stderr


def test_rotate_token_prints_it_once_and_the_old_one_stops(server: Server) -> None:
    sid, old = server.new_account()
    key, secret = store_key(server, sid)
    with httpx.Client(base_url=server.base_url) as http:
        assert http.get("/v2/Flows", auth=(sid, old)).status_code == 200
        result = json.loads(
            run_cli(server.database_url, "accounts", "rotate-token", sid, "--json").stdout
        )
        assert result["sid"] == sid and result["auth_token"] != old
        wait_until(
            lambda: http.get("/v2/Flows", auth=(sid, old)).status_code == 401,
            REVOCATION_DEADLINE,
            "old token still accepted",
        )
        assert http.get("/v2/Flows", auth=(sid, result["auth_token"])).status_code == 200
        # API keys are separate credentials: rotating the token leaves them alone.
        assert http.get("/v2/Flows", auth=(key, secret)).status_code == 200
    missing = run_cli(server.database_url, "accounts", "rotate-token", "AC" + "0" * 32, check=False)
    assert missing.returncode == 1 and "No account" in missing.stderr


# --- every process -----------------------------------------------------------------------------


def _while_busy(database_url: str, args: tuple[str, ...], keep_warm: Callable[[], None]) -> None:
    """Run a CLI command while requests keep the servers' credential caches warm, so the
    revocation lands on cached entries (the worst case)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowyard", *args, "--database-url", database_url],
        stdout=subprocess.DEVNULL,
    )
    while proc.poll() is None:
        keep_warm()
    assert proc.returncode == 0


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL backend not selected")
def test_revocation_reaches_every_process_within_5_s(tmp_path: Path) -> None:
    """Two ``flowyard serve`` processes on one PostgreSQL database: a key revoked and a token
    rotated through the CLI stop working for REST and console sessions on both."""
    from tests.console.conftest import http_sign_in

    database_url, name = _database_url("postgresql", tmp_path)
    assert name is not None
    procs = []
    try:
        first, proc = start_server(database_url, "postgresql")
        procs.append(proc)
        env = {"FLOWYARD_ACCOUNT_SID": first.account_sid, "FLOWYARD_AUTH_TOKEN": first.auth_token}
        second, proc = start_server(database_url, "postgresql", env)
        procs.append(proc)
        key, secret = store_key(first, first.account_sid)
        token = (first.account_sid, first.auth_token)
        # A session cookie is signed with a key derived from its credential: valid on both.
        cookies = {
            key: http_sign_in(first.base_url, key, secret).cookies["fy_session"],
            first.account_sid: http_sign_in(second.base_url, *token).cookies["fy_session"],
        }

        def statuses(user: str, password: str) -> list[int]:
            return [
                code
                for srv in (first, second)
                for code in (
                    httpx.get(srv.base_url + "/v2/Flows", auth=(user, password)).status_code,
                    httpx.get(
                        srv.base_url + "/console/api/flows", cookies={"fy_session": cookies[user]}
                    ).status_code,
                )
            ]

        for user, password, args in (
            (key, secret, ("keys", "revoke", key)),
            (*token, ("accounts", "rotate-token", first.account_sid)),
        ):
            assert statuses(user, password) == [200] * 4
            _while_busy(database_url, args, lambda u=user, p=password: statuses(u, p))
            took = wait_until(
                lambda u=user, p=password: statuses(u, p) == [401] * 4,
                REVOCATION_DEADLINE,
                f"{user} still accepted somewhere",
            )
            print(f"{args[0]} {args[1]}: refused by both processes {took:.2f} s after the CLI")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        _drop_database(name)
