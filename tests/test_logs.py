"""What ``flowyard serve`` writes: an access line per request, JSON when asked, why a webhook
was refused, and at start the database and a warning when signatures are not checked."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from tests.conftest import MINIMAL_DEFINITION, Server, start_server

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def wait_for(server: Server, found: Callable[[str], bool], timeout: float = 30) -> str:
    """The server's output once ``found`` holds for it (a line is written after the response
    went out, so a client can be faster than the log)."""
    deadline = time.monotonic() + timeout
    while True:
        out = server.output()
        if found(out) or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def access_line(method: str, path: str, status: int, sid: str) -> re.Pattern[str]:
    return re.compile(
        rf'INFO flowyard\.access: 127\.0\.0\.1 "{method} {re.escape(path)} HTTP/1\.1" '
        rf"{status} \d+\.\dms {sid}$",
        re.MULTILINE,
    )


def phone() -> str:
    """A number no other test uses, so finding it in the output means this test put it there."""
    return "+1555" + str(uuid.uuid4().int)[:7]


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


# --- the shared server, on each backend ----------------------------------------------------------


def test_an_access_line_per_request_without_secrets(server: Server) -> None:
    sid, token = server.new_account()
    client = server.client(sid, token)
    flow = client.studio.v2.flows.create(
        friendly_name="logs", status="published", definition=MINIMAL_DEFINITION
    )
    client.studio.v2.flows(flow.sid).fetch()
    client.studio.v2.flows.list(page_size=7)
    secret_body = f"my pin is {uuid.uuid4().hex}"
    to, from_ = phone(), phone()
    client.studio.v2.flows(flow.sid).executions.create(
        to=to, from_=from_, parameters={"note": secret_body}
    )
    with pytest.raises(TwilioRestException):
        client.studio.v2.flows("FW" + "0" * 32).fetch()
    wrong = "wrong" + uuid.uuid4().hex
    with pytest.raises(TwilioException):  # a page that cannot be fetched
        server.client(sid, wrong).studio.v2.flows.list()

    expected = [
        access_line("POST", "/v2/Flows", 201, sid),
        access_line("GET", f"/v2/Flows/{flow.sid}", 200, sid),
        access_line("GET", "/v2/Flows", 200, sid),  # no ?PageSize=7
        access_line("POST", f"/v2/Flows/{flow.sid}/Executions", 201, sid),
        access_line("GET", "/v2/Flows/FW" + "0" * 32, 404, sid),
        access_line("GET", "/v2/Flows", 401, sid),  # the username, though refused
    ]
    out = wait_for(server, lambda out: all(line.search(out) for line in expected))
    for line in expected:
        assert len(line.findall(out)) == 1, line.pattern
    mine = [line for line in out.splitlines() if sid in line]
    assert not any("?" in line or "PageSize" in line for line in mine), mine
    for secret in (token, wrong, secret_body, to, from_):
        assert secret not in out


def test_a_rejected_webhook_names_the_url_it_was_checked_against(server: Server) -> None:
    sid, token = server.new_account()
    flow = server.client(sid, token).studio.v2.flows.create(
        friendly_name="webhook", status="published", definition=MINIMAL_DEFINITION
    )
    path = f"/v1/Accounts/{sid}/Flows/{flow.sid}"
    body = f"secret reply {uuid.uuid4().hex}"
    signature = "c2lnbmF0dXJl" + uuid.uuid4().hex
    sender = phone()
    params = {"From": sender, "Body": body, "MessageSid": "SM" + uuid.uuid4().hex}
    wrong = httpx.post(
        server.base_url + path, data=params, headers={"X-Twilio-Signature": signature}
    )
    assert wrong.status_code == 403
    proxied = httpx.post(
        server.base_url + path,
        data=params,
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "flows.example.com"},
    )
    assert proxied.status_code == 403

    checked = (
        f"rejected webhook POST {path}: X-Twilio-Signature does not match; signature checked "
        f"against {server.base_url}{path} (the URL this request reached). "
        "FLOWYARD_PUBLIC_URL is not set"
    )
    # uvicorn believes X-Forwarded-Proto from 127.0.0.1, so the https URL was checked.
    https_base = server.base_url.replace("http://", "https://")
    hinted = (
        f"rejected webhook POST {path}: no X-Twilio-Signature header; signature checked against "
        f"{https_base}{path} (the URL this request reached). The proxy headers say this request "
        f"was for https://flows.example.com{path}: if that is the URL Twilio calls, set "
        "FLOWYARD_PUBLIC_URL=https://flows.example.com"
    )
    refused = access_line("POST", path, 403, sid)
    # Both requests' access lines: each is written after its response went out.
    out = wait_for(server, lambda out: hinted in out and len(refused.findall(out)) == 2)
    assert f"WARNING flowyard.webhook: {checked}" in out
    assert f"WARNING flowyard.webhook: {hinted}" in out
    assert len(refused.findall(out)) == 2
    for secret in (token, signature, body, sender):
        assert secret not in out


# --- servers of their own, on SQLite ------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'logs.db'}"


@pytest.fixture
def json_server(sqlite_url: str) -> Iterator[Server]:
    srv, proc = start_server(sqlite_url, "sqlite", workers=2, args=["--log-format", "json"])
    try:
        yield srv
    finally:
        stop(proc)


def records(server: Server) -> list[dict]:
    """Every line of the output as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in server.output().splitlines() if line.strip()]


def test_json_lines_from_every_worker(json_server: Server) -> None:
    client = json_server.client()
    flow = client.studio.v2.flows.create(
        friendly_name="json", status="published", definition=MINIMAL_DEFINITION
    )
    client.studio.v2.flows(flow.sid).fetch()
    path = f"/v1/Accounts/{json_server.account_sid}/Flows/{flow.sid}"
    refused = httpx.post(json_server.base_url + path, data={"From": "+15550005555"})
    assert refused.status_code == 403

    def fetched(out: str) -> bool:
        # The server answers once one worker does: the other may still be starting.
        both = out.count('"Started server process') == 2
        return both and f'"path":"/v2/Flows/{flow.sid}"' in out and '"flowyard.webhook"' in out

    wait_for(json_server, fetched, timeout=60)
    lines = records(json_server)
    for line in lines:
        assert ISO_UTC.fullmatch(line["time"]) and line["level"] and line["logger"], line
        assert "message" in line
    started = [r for r in lines if r["message"].startswith("Started server process")]
    assert len(started) == 2  # each worker configured by the log_config uvicorn passed on
    (fetch,) = [r for r in lines if r.get("path") == f"/v2/Flows/{flow.sid}"]
    assert fetch["logger"] == "flowyard.access" and fetch["level"] == "INFO"
    assert fetch["method"] == "GET" and fetch["status"] == 200
    assert fetch["account_sid"] == json_server.account_sid
    assert fetch["client"] == "127.0.0.1" and isinstance(fetch["duration_ms"], float)
    (rejected,) = [r for r in lines if r["logger"] == "flowyard.webhook"]
    assert rejected["level"] == "WARNING" and rejected["reason"] == "missing"
    assert rejected["checked_url"] == json_server.base_url + path
    assert rejected["flow_sid"] == flow.sid
    (start,) = [r for r in lines if r["logger"] == "flowyard.serve" and "database" in r]
    assert start["database"] == "SQLite " + json_server.database_url.removeprefix("sqlite:///")
    assert json_server.auth_token not in json_server.output()


def test_start_up_warns_when_signatures_are_off_and_access_log_can_be_off(
    sqlite_url: str,
) -> None:
    env = {"FLOWYARD_VALIDATE_SIGNATURES": "false"}
    srv, proc = start_server(sqlite_url, "sqlite", env, args=["--no-access-log"])
    try:
        for _ in range(3):
            srv.http().get("/v2/Flows").raise_for_status()
        out = wait_for(srv, lambda out: "Application startup complete" in out)
    finally:
        stop(proc)
    database = sqlite_url.removeprefix("sqlite:///")
    assert f"INFO flowyard.serve: Flowyard listening on {srv.base_url}" in out
    assert f"database SQLite {database}" in out
    assert "WARNING flowyard.serve: X-Twilio-Signature checking is off" in out
    assert "flowyard.access" not in out
