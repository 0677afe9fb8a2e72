"""Errors do not cost the client its connection, and an over-limit body gets a readable 413."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import requests

from tests.conftest import MINIMAL_DEFINITION, Server

TWO_MIB = b"FriendlyName=x&Status=draft&Definition=" + b"y" * (2 * 1024 * 1024)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def test_4xx_answers_keep_the_connection(server: Server) -> None:
    sid, token = server.new_account("keepalive")
    with httpx.Client(base_url=server.base_url, auth=(sid, token)) as http:
        flow = http.post(
            "/v2/Flows",
            data={
                "FriendlyName": "k",
                "Status": "draft",
                "Definition": json.dumps(MINIMAL_DEFINITION),
            },
        ).json()["sid"]
        nul = {"FriendlyName": "n", "Status": "draft", "Definition": '{"a":"\\u0000"}'}
        unread = {"content": b"a=1" * 50_000, "headers": FORM, "auth": ("x", "y")}
        bad = [
            ("POST", "/v2/Flows", {"data": {"FriendlyName": "x"}}, 400),
            ("POST", "/v2/Flows", {"content": b"\xff=\xff", "headers": FORM}, 400),
            ("POST", "/v2/Flows", {"data": {"FriendlyName": "x", "Status": "draft"}}, 400),
            ("POST", "/v2/Flows", {"data": nul}, 400),
            ("POST", "/v2/Flows", unread, 401),
            ("GET", "/v2/Flows/FW%00", {}, 404),
            ("GET", f"/v2/Flows/{flow}/Executions?PageToken=PAx", {}, 400),
            ("PUT", "/v2/Flows", {}, 405),
            ("POST", "/v2/Flows", {"content": TWO_MIB, "headers": FORM}, 413),
        ]  # fmt: skip
        for method, path, kwargs, status in bad:
            response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == status, (method, path, response.text)
            assert "close" not in response.headers.get("connection", "")
            good = http.get(f"/v2/Flows/{flow}")
            assert good.status_code == 200
            assert local_port(good) == local_port(response), (method, path)


def test_a_two_mib_body_is_a_readable_413_every_time(server: Server) -> None:
    auth = (server.account_sid, server.auth_token)
    for _ in range(20):  # the SDK's HTTP library, a fresh connection each time
        response = requests.post(
            server.base_url + "/v2/Flows", data=TWO_MIB, headers=FORM, auth=auth, timeout=30
        )
        assert response.status_code == 413
        assert response.json()["code"] == 20413
    with httpx.Client(base_url=server.base_url, auth=auth) as http:
        for _ in range(20):  # one connection, reused after each 413
            response = http.post("/v2/Flows", content=TWO_MIB, headers=FORM)
            assert response.status_code == 413
            assert response.json()["code"] == 20413


def _raw(server: Server, head: bytes) -> bytes:
    """Send only a request's head; what the server answers before any body arrives."""
    address = urlsplit(server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_413_is_sent_before_a_body_that_will_not_be_drained(server: Server) -> None:
    # A client that waits for 100-continue is told no, and does not send its body.
    expect = _raw(
        server,
        b"POST /v2/Flows HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2097152\r\n\r\n",
    )
    assert expect.startswith(b"HTTP/1.1 413 "), expect
    assert b"connection: close" in expect.lower()
    # A body past the drain bound is not waited for either.
    huge = _raw(
        server,
        b"POST /v2/Flows HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1073741824\r\n\r\n",
    )
    assert huge.startswith(b"HTTP/1.1 413 "), huge
    assert b'"code":20413' in huge
