"""Studio v1 Flows (list, fetch, delete) over the flows created through v2."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.conftest import MINIMAL_DEFINITION, Server

V1_KEYS = {
    "sid",
    "account_sid",
    "friendly_name",
    "status",
    "version",
    "date_created",
    "date_updated",
    "url",
    "links",
}
TWILIO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def raw(server: Server, client: Client) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(client.username, client.password))


def test_fetch_mirrors_the_v2_flow(server: Server, client: Client) -> None:
    created = client.studio.v2.flows.create(
        friendly_name="Both APIs", status="published", definition=MINIMAL_DEFINITION
    )
    flow = client.studio.v1.flows(created.sid).fetch()
    base = f"{server.base_url}/v1/Flows/{created.sid}"
    assert flow.sid == created.sid
    assert flow.account_sid == client.username
    assert flow.friendly_name == "Both APIs"
    assert flow.status == "published"
    assert flow.version == 1
    assert isinstance(flow.date_created, datetime)
    assert flow.date_created == created.date_created
    assert flow.date_updated == created.date_updated
    assert flow.url == base
    assert flow.links == {"engagements": f"{base}/Engagements", "executions": f"{base}/Executions"}


def test_version_is_the_latest_revision_number(client: Client) -> None:
    created = client.studio.v2.flows.create(
        friendly_name="old", status="published", definition=MINIMAL_DEFINITION
    )
    client.studio.v2.flows(created.sid).update(status="published", friendly_name="mid")
    client.studio.v2.flows(created.sid).update(status="draft", friendly_name="new")
    flow = client.studio.v1.flows(created.sid).fetch()
    assert flow.version == 3
    assert flow.friendly_name == "new"
    assert flow.status == "draft"
    assert [f.version for f in client.studio.v1.flows.list()] == [3]


def test_list_shows_every_flow_of_the_account(client: Client) -> None:
    assert client.studio.v1.flows.list() == []
    sids = [
        client.studio.v2.flows.create(
            friendly_name=f"f{i}", status="draft", definition=MINIMAL_DEFINITION
        ).sid
        for i in range(3)
    ]
    listed = client.studio.v1.flows.list()
    assert [f.sid for f in listed] == sids
    assert [f.friendly_name for f in listed] == ["f0", "f1", "f2"]
    assert all(f.version == 1 and f.status == "draft" for f in listed)
    assert all(f.url.endswith(f"/v1/Flows/{f.sid}") for f in listed)
    # Paging works the same way as on v2.
    assert [f.sid for f in client.studio.v1.flows.list(page_size=2)] == sids
    page = client.studio.v1.flows.page(page_size=2)
    assert [f.sid for f in page] == sids[:2]
    assert page.next_page_url.startswith(f"{client.studio.base_url}/v1/Flows?")
    assert [f.sid for f in page.next_page()] == sids[2:]


def test_exact_body(server: Server, client: Client) -> None:
    created = client.studio.v2.flows.create(
        friendly_name="raw", status="draft", definition=MINIMAL_DEFINITION
    )
    with raw(server, client) as http:
        fetched = http.get(f"/v1/Flows/{created.sid}")
        listed = http.get("/v1/Flows")
    assert fetched.status_code == 200
    body = fetched.json()
    assert set(body) == V1_KEYS
    assert body["version"] == 1
    assert TWILIO_DATE.fullmatch(body["date_created"])
    assert TWILIO_DATE.fullmatch(body["date_updated"])
    assert listed.status_code == 200
    page = listed.json()
    assert set(page) == {"flows", "meta"}
    assert page["flows"] == [body]
    assert page["meta"]["key"] == "flows"
    assert page["meta"]["url"] == f"{server.base_url}/v1/Flows?PageSize=50&Page=0"


def test_delete_removes_the_flow_from_both_versions(server: Server, client: Client) -> None:
    keep = client.studio.v2.flows.create(
        friendly_name="keep", status="draft", definition=MINIMAL_DEFINITION
    )
    gone = client.studio.v2.flows.create(
        friendly_name="gone", status="draft", definition=MINIMAL_DEFINITION
    )
    assert client.studio.v1.flows(gone.sid).delete() is True
    for call in (
        lambda: client.studio.v1.flows(gone.sid).fetch(),
        lambda: client.studio.v2.flows(gone.sid).fetch(),
        lambda: client.studio.v1.flows(gone.sid).delete(),
    ):
        with pytest.raises(TwilioRestException) as excinfo:
            call()
        assert type(excinfo.value) is TwilioRestException
        assert (excinfo.value.status, excinfo.value.code) == (404, 20404)
    assert [f.sid for f in client.studio.v1.flows.list()] == [keep.sid]
    assert [f.sid for f in client.studio.v2.flows.list()] == [keep.sid]

    with raw(server, client) as http:
        response = http.delete(f"/v1/Flows/{keep.sid}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.studio.v1.flows.list() == []


def test_unknown_flow(client: Client) -> None:
    sid = "FW" + "0" * 32
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v1.flows(sid).fetch()
    assert (excinfo.value.status, excinfo.value.code) == (404, 20404)
    assert f"/Flows/{sid}" in excinfo.value.msg
    assert "/v1/" not in excinfo.value.msg
