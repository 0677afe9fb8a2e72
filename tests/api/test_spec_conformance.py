"""Every v1/v2 Flows-family operation answers bodies that match the official OpenAPI spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from twilio.rest import Client

from tests import spec
from tests.conftest import MINIMAL_DEFINITION, Server


def flows_family(version: int) -> set[tuple[str, str]]:
    """The spec's Flow, Revision, TestUsers and Validate operations (no executions)."""
    return {
        (method, path)
        for method, path in spec.operations(version)
        if "/Executions" not in path and "/Engagements" not in path
    }


class Conformance:
    """Sends requests by path template, validates every answer, remembers what it covered."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.covered: set[tuple[str, str]] = set()

    def call(
        self, method: str, template: str, *, data: Any = None, params: Any = None, **path: str
    ) -> Any:
        response = self.http.request(method, template.format(**path), data=data, params=params)
        body = spec.check(response, template)
        self.covered.add((method, template))
        return body


@pytest.fixture
def conformance(server: Server, client: Client) -> Iterator[Conformance]:
    auth = (client.username, client.password)
    with httpx.Client(base_url=server.base_url, auth=auth) as http:
        yield Conformance(http)


def form(name: str, status: str, definition: Any = MINIMAL_DEFINITION, **extra: str) -> dict:
    return {
        "FriendlyName": name,
        "Status": status,
        "Definition": json.dumps(definition),
        **extra,
    }


def test_every_flows_operation_matches_the_spec(conformance: Conformance) -> None:
    c = conformance
    # Empty lists first: the envelope alone.
    assert c.call("GET", "/v2/Flows")["flows"] == []
    assert c.call("GET", "/v1/Flows")["flows"] == []

    # v2 Flow create / fetch / update, draft and published, with and without optional fields.
    draft = c.call("POST", "/v2/Flows", data=form("draft", "draft"))
    published = c.call(
        "POST", "/v2/Flows", data=form("published", "published", CommitMessage="first")
    )
    sid = published["sid"]
    assert c.call("GET", "/v2/Flows/{Sid}", Sid=sid)["status"] == "published"
    updated = c.call(
        "POST",
        "/v2/Flows/{Sid}",
        Sid=sid,
        data={"Status": "draft", "FriendlyName": "renamed", "CommitMessage": "second"},
    )
    assert updated["revision"] == 2
    c.call("POST", "/v2/Flows/{Sid}", Sid=sid, data={"Status": "published"})

    # Lists across pages, so next/previous URLs are non-null somewhere.
    c.call("POST", "/v2/Flows", data=form("third", "draft"))
    first = c.call("GET", "/v2/Flows", params={"PageSize": 2})
    assert first["meta"]["next_page_url"]
    second = c.call(
        "GET", "/v2/Flows", params=dict(httpx.URL(first["meta"]["next_page_url"]).params)
    )
    assert second["meta"]["previous_page_url"]
    v1_first = c.call("GET", "/v1/Flows", params={"PageSize": 2})
    assert v1_first["meta"]["next_page_url"]

    # Revisions: list (paged), by number and by both aliases.
    revisions = c.call("GET", "/v2/Flows/{Sid}/Revisions", Sid=sid)
    assert [r["revision"] for r in revisions["revisions"]] == [3, 2, 1]
    c.call("GET", "/v2/Flows/{Sid}/Revisions", Sid=sid, params={"PageSize": 1})
    for revision in ("1", "2", "LatestPublished", "LatestRevision"):
        c.call("GET", "/v2/Flows/{Sid}/Revisions/{Revision}", Sid=sid, Revision=revision)

    # Test users: empty, then set.
    assert c.call("GET", "/v2/Flows/{Sid}/TestUsers", Sid=sid)["test_users"] == []
    users = c.call(
        "POST",
        "/v2/Flows/{Sid}/TestUsers",
        Sid=sid,
        data={"TestUsers": ["+14155550100", "client:alice"]},
    )
    assert users["test_users"] == ["+14155550100", "client:alice"]
    c.call("GET", "/v2/Flows/{Sid}/TestUsers", Sid=sid)

    # Validate.
    assert c.call("POST", "/v2/Flows/Validate", data=form("check", "draft")) == {"valid": True}

    # v1 fetch and delete; v2 delete.
    v1 = c.call("GET", "/v1/Flows/{Sid}", Sid=sid)
    assert v1["version"] == 3
    assert c.call("DELETE", "/v1/Flows/{Sid}", Sid=sid) is None
    assert c.call("DELETE", "/v2/Flows/{Sid}", Sid=draft["sid"]) is None

    assert c.covered == flows_family(1) | flows_family(2)


def test_family_is_what_the_issue_lists() -> None:
    """Guards the coverage check above against a spec that lost or gained operations."""
    assert flows_family(2) == {
        ("POST", "/v2/Flows"),
        ("GET", "/v2/Flows"),
        ("GET", "/v2/Flows/{Sid}"),
        ("POST", "/v2/Flows/{Sid}"),
        ("DELETE", "/v2/Flows/{Sid}"),
        ("GET", "/v2/Flows/{Sid}/Revisions"),
        ("GET", "/v2/Flows/{Sid}/Revisions/{Revision}"),
        ("GET", "/v2/Flows/{Sid}/TestUsers"),
        ("POST", "/v2/Flows/{Sid}/TestUsers"),
        ("POST", "/v2/Flows/Validate"),
    }
    assert flows_family(1) == {
        ("GET", "/v1/Flows"),
        ("GET", "/v1/Flows/{Sid}"),
        ("DELETE", "/v1/Flows/{Sid}"),
    }


def test_the_exact_check_catches_drift(conformance: Conformance) -> None:
    """The validator used above does fail on the mistakes it is meant to catch."""
    body = conformance.call("POST", "/v2/Flows", data=form("drift", "draft"))
    spec.validate_body("/v2/Flows/{Sid}", "GET", 200, body)
    mistakes = {
        "missing field": {k: v for k, v in body.items() if k != "webhook_url"},
        "extra field": {**body, "type": "flow"},
        "fractional date": {**body, "date_created": "2024-05-04T09:42:00.123Z"},
        "offset date": {**body, "date_updated": "2024-05-04T09:42:00+00:00"},
        "relative url": {**body, "url": "/v2/Flows/" + body["sid"]},
        "string revision": {**body, "revision": "1"},
        "unknown status": {**body, "status": "archived"},
        "bad sid": {**body, "sid": "FW123"},
    }
    for name, wrong in mistakes.items():
        try:
            spec.validate_body("/v2/Flows/{Sid}", "GET", 200, wrong)
        except AssertionError:
            continue
        pytest.fail(f"a body with a {name} passed the exact check")
    # And a status the operation does not declare is refused (create answers 201, not 200).
    with pytest.raises(AssertionError):
        spec.validate_body("/v2/Flows", "POST", 200, body)
    spec.validate_body("/v2/Flows", "POST", 201, body)
