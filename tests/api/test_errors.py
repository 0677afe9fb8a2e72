"""Errors: Twilio's legacy body, the codes the SDK sees, and the request-body limit."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tests.conftest import MINIMAL_DEFINITION, Server, start_server

ERROR_KEYS = {"code", "message", "more_info", "status"}
UNKNOWN_FLOW = "FW" + "0123456789abcdef" * 2


def raw(server: Server, client: Client) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(client.username, client.password))


def assert_error(response: httpx.Response, status: int, code: int) -> dict:
    """The response is Twilio's legacy error body for this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"details"}, body
    assert body["code"] == code
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str) and body["message"]
    return body


def make_flow(client: Client) -> str:
    return client.studio.v2.flows.create(
        friendly_name="errors", status="draft", definition=MINIMAL_DEFINITION
    ).sid


# --- 404 ---------------------------------------------------------------------------------------


def test_unknown_flow_sid_is_20404_for_every_operation(client: Client) -> None:
    v2 = client.studio.v2.flows(UNKNOWN_FLOW)
    calls = {
        "v2 fetch": v2.fetch,
        "v2 update": lambda: v2.update(status="published"),
        "v2 delete": v2.delete,
        "revision fetch": lambda: v2.revisions(1).fetch(),
        "latest revision": lambda: v2.revisions("LatestRevision").fetch(),
        "test users fetch": lambda: v2.test_users().fetch(),
        "test users update": lambda: v2.test_users().update(test_users=["client:x"]),
        "v1 fetch": client.studio.v1.flows(UNKNOWN_FLOW).fetch,
        "v1 delete": client.studio.v1.flows(UNKNOWN_FLOW).delete,
    }
    for name, call in calls.items():
        with pytest.raises(TwilioRestException) as excinfo:
            call()
        error = excinfo.value
        assert type(error) is TwilioRestException, name
        assert (error.status, error.code) == (404, 20404), name
        # Twilio quotes the path without the version prefix.
        assert f"/Flows/{UNKNOWN_FLOW}" in error.msg, name
        assert "/v1/" not in error.msg and "/v2/" not in error.msg, name


def test_unknown_flow_on_a_list_raises_a_plain_twilio_exception(
    server: Server, client: Client
) -> None:
    """twilio-python raises bare TwilioException for any failed page; the body says 20404."""
    with pytest.raises(TwilioException) as excinfo:
        client.studio.v2.flows(UNKNOWN_FLOW).revisions.list()
    assert not isinstance(excinfo.value, TwilioRestException)
    assert excinfo.value.args[0] == "Unable to fetch page"
    assert excinfo.value.args[1].status_code == 404
    assert json.loads(excinfo.value.args[1].text)["code"] == 20404
    with raw(server, client) as http:
        assert_error(http.get(f"/v2/Flows/{UNKNOWN_FLOW}/Revisions"), 404, 20404)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2",
        "/v2/Nope",
        "/v3/Flows",
        "/v2/flows",  # paths are case-sensitive, as on Twilio
        f"/v2/Flows/{UNKNOWN_FLOW}/Nope",
        f"/v1/Flows/{UNKNOWN_FLOW}/Revisions",  # v1 has no revisions
        "/v2/Flows/Validate/Extra",
    ],
)
def test_unknown_paths_are_20404(server: Server, client: Client, path: str) -> None:
    with raw(server, client) as http:
        body = assert_error(http.get(path), 404, 20404)
    assert set(body) == ERROR_KEYS


def test_malformed_flow_sids_are_20404(server: Server, client: Client) -> None:
    with raw(server, client) as http:
        for sid in ("FWshort", "XX" + "0" * 32, "FW" + "0" * 40, "%F0%9F%98%80"):
            assert_error(http.get(f"/v2/Flows/{sid}"), 404, 20404)
            assert_error(http.get(f"/v1/Flows/{sid}"), 404, 20404)


# --- 405 ---------------------------------------------------------------------------------------


def test_wrong_methods_are_20004(server: Server, client: Client) -> None:
    sid = make_flow(client)
    wrong = [
        ("PUT", "/v2/Flows"),
        ("DELETE", "/v2/Flows"),
        ("PATCH", f"/v2/Flows/{sid}"),
        ("PUT", f"/v2/Flows/{sid}"),
        ("DELETE", f"/v2/Flows/{sid}/Revisions"),
        ("POST", f"/v2/Flows/{sid}/Revisions"),
        ("POST", f"/v2/Flows/{sid}/Revisions/1"),
        ("DELETE", f"/v2/Flows/{sid}/TestUsers"),
        ("PUT", "/v2/Flows/Validate"),
        ("POST", "/v1/Flows"),  # v1 cannot create flows
        ("POST", f"/v1/Flows/{sid}"),  # nor update them
    ]
    with raw(server, client) as http:
        for method, path in wrong:
            response = http.request(method, path)
            body = assert_error(response, 405, 20004)
            assert set(body) == ERROR_KEYS, (method, path)
            assert method not in response.headers["Allow"] and "GET" in response.headers["Allow"]
        # Nothing happened to the flow.
        assert http.get(f"/v2/Flows/{sid}").json()["revision"] == 1


# --- 400 ---------------------------------------------------------------------------------------


def test_parameter_errors_are_20001(server: Server, client: Client) -> None:
    definition = json.dumps(MINIMAL_DEFINITION)
    with raw(server, client) as http:
        cases = [
            {"Status": "draft", "Definition": definition},
            {"FriendlyName": "x", "Definition": definition},
            {"FriendlyName": "x", "Status": "draft"},
            {"FriendlyName": "x", "Status": "Draft", "Definition": definition},
            {"FriendlyName": "x", "Status": "draft", "Definition": "{"},
            {"FriendlyName": "x", "Status": "draft", "Definition": "states: []"},
        ]
        for data in cases:
            body = assert_error(http.post("/v2/Flows", data=data), 400, 20001)
            assert set(body) == ERROR_KEYS
        missing = assert_error(http.post("/v2/Flows", data=cases[0]), 400, 20001)
        assert "FriendlyName" in missing["message"]
        # A JSON body is not what the API takes.
        assert_error(
            http.post(
                "/v2/Flows",
                json={"FriendlyName": "x", "Status": "draft", "Definition": MINIMAL_DEFINITION},
            ),
            400,
            20001,
        )
        # Nor bytes that are not UTF-8.
        assert_error(
            http.post(
                "/v2/Flows",
                content=b"FriendlyName=\xff\xfe&Status=draft",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            400,
            20001,
        )
        assert http.get("/v2/Flows").json()["flows"] == []


def test_sdk_sees_20001_as_a_rest_exception(client: Client) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows.create(friendly_name="x", status="draft", definition="nope")
    error = excinfo.value
    assert type(error) is TwilioRestException  # not TwilioServiceException: no type/title keys
    assert (error.status, error.code, error.method) == (400, 20001, "POST")
    assert "Definition" in error.msg
    assert error.uri == "/Flows"


def test_validation_error_carries_details(server: Server, client: Client) -> None:
    broken = {**MINIMAL_DEFINITION, "initial_state": "Missing"}
    with raw(server, client) as http:
        for path in ("/v2/Flows", "/v2/Flows/Validate"):
            response = http.post(
                path,
                data={"FriendlyName": "x", "Status": "draft", "Definition": json.dumps(broken)},
            )
            body = assert_error(response, 400, 81022)
            assert set(body) == ERROR_KEYS | {"details"}
            errors = body["details"]["errors"]
            assert errors and all(set(e) == {"message", "property_path"} for e in errors)
        sid = make_flow(client)
        body = assert_error(http.get(f"/v2/Flows/{sid}/Revisions/Newest"), 400, 81021)
        assert set(body) == ERROR_KEYS


# --- 413 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own whose body limit is 2,048 bytes."""
    path: Path = tmp_path_factory.mktemp("limit") / "flowyard.db"
    srv, proc = start_server(f"sqlite:///{path}", "sqlite", {"FLOWYARD_MAX_BODY_BYTES": "2048"})
    try:
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def padded_definition(size: int) -> dict:
    """MINIMAL_DEFINITION whose description makes the form body about ``size`` bytes."""
    return {**MINIMAL_DEFINITION, "description": "x" * size}


def test_body_over_the_configured_limit_is_413(small_server: Server) -> None:
    client = small_server.client()
    with small_server.http() as http:
        ok = http.post(
            "/v2/Flows",
            data={
                "FriendlyName": "fits",
                "Status": "draft",
                "Definition": json.dumps(padded_definition(1000)),
            },
        )
        assert ok.status_code == 201, ok.text

        data = {
            "FriendlyName": "too big",
            "Status": "draft",
            "Definition": json.dumps(padded_definition(3000)),
        }
        body = assert_error(http.post("/v2/Flows", data=data), 413, 20413)
        assert set(body) == ERROR_KEYS

        # Without Content-Length (chunked), the limit holds as the body streams in.
        encoded = str(httpx.QueryParams(data)).encode()

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(encoded), 512):
                yield encoded[start : start + 512]

        response = http.post(
            "/v2/Flows",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "content-length" not in response.request.headers
        assert_error(response, 413, 20413)

    # The SDK sees a TwilioRestException, and nothing was stored.
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows.create(
            friendly_name="sdk", status="draft", definition=padded_definition(4000)
        )
    assert excinfo.value.status == 413
    assert [f.friendly_name for f in client.studio.v2.flows.list()] == ["fits"]


def test_default_limit_is_one_mebibyte(server: Server, client: Client) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows.create(
            friendly_name="huge", status="draft", definition=padded_definition(1024 * 1024)
        )
    assert excinfo.value.status == 413
    with raw(server, client) as http:
        assert_error(
            http.post(
                "/v2/Flows",
                content=b"FriendlyName=x&Description=" + b"y" * (1024 * 1024),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            413,
            20413,
        )
    assert client.studio.v2.flows.list() == []
