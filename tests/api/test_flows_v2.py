"""Studio v2 Flows, Revisions, TestUsers and Validate, driven through the official SDK."""

from __future__ import annotations

import copy
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.conftest import MINIMAL_DEFINITION, Server

FLOW_SID = re.compile(r"FW[0-9a-f]{32}")
TWILIO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
FLOW_KEYS = {
    "sid",
    "account_sid",
    "author_sid",
    "friendly_name",
    "definition",
    "status",
    "revision",
    "commit_message",
    "valid",
    "errors",
    "warnings",
    "date_created",
    "date_updated",
    "webhook_url",
    "url",
    "links",
}
REVISION_KEYS = FLOW_KEYS - {"webhook_url", "warnings", "links"}


def definition(description: str) -> dict:
    """MINIMAL_DEFINITION with another description, to tell revisions apart."""
    value = copy.deepcopy(MINIMAL_DEFINITION)
    value["description"] = description
    return value


# A definition the validator must refuse: the trigger is missing and initial_state names nothing.
INVALID_DEFINITION = {
    "description": "broken",
    "states": [
        {
            "name": "Hello",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {"offset": {"x": 0, "y": 0}, "body": "hi"},
        }
    ],
    "initial_state": "Nowhere",
    "flags": {"allow_concurrent_calls": True},
}


def raw(server: Server, client: Client) -> httpx.Client:
    """httpx with the same account's credentials, for what the SDK cannot show."""
    return httpx.Client(base_url=server.base_url, auth=(client.username, client.password))


def rest_error(excinfo: pytest.ExceptionInfo[TwilioRestException]) -> tuple[int, int]:
    assert type(excinfo.value) is TwilioRestException
    return excinfo.value.status, excinfo.value.code


# --- create / fetch ----------------------------------------------------------------------------


def test_create_returns_every_field(server: Server, client: Client) -> None:
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    flow = client.studio.v2.flows.create(
        friendly_name="Support line",
        status="draft",
        definition=MINIMAL_DEFINITION,
        commit_message="first cut",
    )
    after = datetime.now(UTC) + timedelta(seconds=2)
    base = server.base_url
    assert FLOW_SID.fullmatch(flow.sid)
    assert flow.account_sid == client.username
    assert flow.author_sid is None
    assert flow.friendly_name == "Support line"
    assert flow.definition == MINIMAL_DEFINITION
    assert flow.status == "draft"
    assert flow.revision == 1
    assert flow.commit_message == "first cut"
    assert flow.valid is True
    assert flow.errors == []
    assert flow.warnings == []
    # The SDK turns only YYYY-MM-DDTHH:MM:SSZ into datetimes; anything else stays a string.
    assert isinstance(flow.date_created, datetime)
    assert before <= flow.date_created <= after
    assert flow.date_updated == flow.date_created
    assert flow.webhook_url == f"{base}/v1/Accounts/{client.username}/Flows/{flow.sid}"
    assert flow.url == f"{base}/v2/Flows/{flow.sid}"
    assert flow.links == {
        "test_users": f"{base}/v2/Flows/{flow.sid}/TestUsers",
        "revisions": f"{base}/v2/Flows/{flow.sid}/Revisions",
        "executions": f"{base}/v2/Flows/{flow.sid}/Executions",
    }


def test_create_answers_201_with_the_definition_as_an_object(
    server: Server, client: Client
) -> None:
    with raw(server, client) as http:
        response = http.post(
            "/v2/Flows",
            data={
                "FriendlyName": "raw",
                "Status": "published",
                "Definition": json.dumps(MINIMAL_DEFINITION),
            },
        )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == FLOW_KEYS
    assert body["definition"] == MINIMAL_DEFINITION  # an object, not a JSON string
    assert body["status"] == "published"
    assert TWILIO_DATE.fullmatch(body["date_created"])
    assert TWILIO_DATE.fullmatch(body["date_updated"])


def test_fetch_returns_what_create_returned(client: Client) -> None:
    created = client.studio.v2.flows.create(
        friendly_name="Fetch me", status="published", definition=MINIMAL_DEFINITION
    )
    fetched = client.studio.v2.flows(created.sid).fetch()
    for field in FLOW_KEYS:
        assert getattr(fetched, field) == getattr(created, field), field
    # FlowInstance.fetch() on an instance goes through its context too.
    assert created.fetch().sid == created.sid


def test_definition_is_parsed_not_compared(client: Client) -> None:
    """Python sends spaced, \\u-escaped JSON; Node sends it compact. Both mean the same."""
    value = definition('Caf\u00e9 \u2615 \U0001f600 <&> "quoted"')
    value["states"][0]["properties"]["offset"] = {"x": -120.5, "y": 10**12}
    spaced = client.studio.v2.flows.create(friendly_name="py", status="draft", definition=value)
    compact = client.studio.v2.flows.create(
        friendly_name="node",
        status="draft",
        definition=json.dumps(value, separators=(",", ":"), ensure_ascii=False),
    )
    assert spaced.definition == value
    assert compact.definition == value
    assert client.studio.v2.flows(compact.sid).fetch().definition == value


def test_list_returns_the_accounts_flows_oldest_first_without_definitions(
    client: Client,
) -> None:
    assert client.studio.v2.flows.list() == []
    sids = [
        client.studio.v2.flows.create(
            friendly_name=f"flow {i}", status="draft", definition=MINIMAL_DEFINITION
        ).sid
        for i in range(3)
    ]
    listed = client.studio.v2.flows.list()
    assert [f.sid for f in listed] == sids
    assert [f.friendly_name for f in listed] == ["flow 0", "flow 1", "flow 2"]
    for item in listed:
        # As on Twilio, list items carry no definition, validity, errors or warnings.
        assert item.definition is None
        assert item.valid is None
        assert item.errors is None
        assert item.warnings is None
        assert item.revision == 1
        assert item.status == "draft"
        assert isinstance(item.date_created, datetime)
        assert item.url.endswith(f"/v2/Flows/{item.sid}")
        assert item.webhook_url.endswith(f"/v1/Accounts/{client.username}/Flows/{item.sid}")
        assert set(item.links) == {"test_users", "revisions", "executions"}


# --- update and revisions ----------------------------------------------------------------------


def test_every_update_appends_an_immutable_revision(client: Client) -> None:
    flows = client.studio.v2.flows
    flow = flows.create(
        friendly_name="v1", status="draft", definition=definition("one"), commit_message="c1"
    )
    second = flows(flow.sid).update(
        status="published",
        friendly_name="v2",
        definition=definition("two"),
        commit_message="c2",
    )
    assert second.sid == flow.sid
    assert second.revision == 2
    assert second.status == "published"
    assert second.friendly_name == "v2"
    assert second.definition == definition("two")
    assert second.commit_message == "c2"
    assert second.date_created == flow.date_created
    assert second.date_updated >= flow.date_updated

    # Only the status: name and definition carry over, the commit message does not.
    third = flows(flow.sid).update(status="draft")
    assert third.revision == 3
    assert third.status == "draft"
    assert third.friendly_name == "v2"
    assert third.definition == definition("two")
    assert third.commit_message is None
    assert flows(flow.sid).fetch().revision == 3

    revisions = flows(flow.sid).revisions.list()
    assert [r.revision for r in revisions] == [3, 2, 1]
    by_number = {r.revision: r for r in revisions}
    assert by_number[1].definition == definition("one")
    assert by_number[1].friendly_name == "v1"
    assert by_number[1].status == "draft"
    assert by_number[1].commit_message == "c1"
    assert by_number[2].definition == definition("two")
    assert by_number[2].status == "published"
    assert by_number[2].commit_message == "c2"
    for rev in revisions:
        assert rev.sid == flow.sid
        assert rev.account_sid == client.username
        assert rev.valid is True
        assert rev.errors == []
        assert isinstance(rev.date_created, datetime)
        assert rev.url.endswith(f"/v2/Flows/{flow.sid}/Revisions/{rev.revision}")

    # Revision 1 is untouched by the later updates.
    first = flows(flow.sid).revisions(1).fetch()
    assert first.revision == 1
    assert first.friendly_name == "v1"
    assert first.definition == definition("one")
    assert first.date_created == flow.date_created


def test_concurrent_updates_get_distinct_consecutive_revisions(
    server: Server, client: Client
) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="busy", status="draft", definition=MINIMAL_DEFINITION
    )

    def update(i: int) -> tuple[int, str]:
        with raw(server, client) as http:
            status = "published" if i % 3 == 0 else "draft"
            response = http.post(
                f"/v2/Flows/{flow.sid}", data={"Status": status, "CommitMessage": f"u{i}"}
            )
        assert response.status_code == 200, response.text
        return response.json()["revision"], status

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(update, range(24)))
    assert sorted(number for number, _ in results) == list(range(2, 26))
    revisions = client.studio.v2.flows(flow.sid).revisions.list()
    assert sorted(r.revision for r in revisions) == list(range(1, 26))
    assert dict(results) == {r.revision: r.status for r in revisions if r.revision > 1}
    newest_published = max(number for number, status in results if status == "published")
    latest_published = client.studio.v2.flows(flow.sid).revisions("LatestPublished").fetch()
    assert latest_published.revision == newest_published
    assert client.studio.v2.flows(flow.sid).fetch().revision == 25


def test_update_through_the_instance(client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="inst", status="draft", definition=MINIMAL_DEFINITION
    )
    updated = flow.update(status="published", commit_message="go live")
    assert updated.revision == 2
    assert updated.status == "published"
    assert updated.commit_message == "go live"


def test_revision_aliases_follow_published_and_latest(client: Client) -> None:
    flows = client.studio.v2.flows
    flow = flows.create(friendly_name="r", status="draft", definition=definition("d1"))
    revisions = flows(flow.sid).revisions

    # Nothing published yet: LatestPublished does not exist.
    with pytest.raises(TwilioRestException) as excinfo:
        revisions("LatestPublished").fetch()
    assert rest_error(excinfo) == (404, 20404)
    assert revisions("LatestRevision").fetch().revision == 1

    flows(flow.sid).update(status="published", definition=definition("p2"))
    flows(flow.sid).update(status="draft", definition=definition("d3"))
    published = revisions("LatestPublished").fetch()
    assert published.revision == 2
    assert published.status == "published"
    assert published.definition == definition("p2")
    latest = revisions("LatestRevision").fetch()
    assert latest.revision == 3
    assert latest.definition == definition("d3")
    assert flows(flow.sid).fetch().status == "draft"

    flows(flow.sid).update(status="published")
    assert revisions("LatestPublished").fetch().revision == 4
    assert revisions("LatestRevision").fetch().revision == 4

    # An integer that is no revision is unknown; a value that is no integer is refused.
    with pytest.raises(TwilioRestException) as excinfo:
        revisions(5).fetch()
    assert rest_error(excinfo) == (404, 20404)
    for missing in (0, "0005", 2147483648, "9" * 30):
        with pytest.raises(TwilioRestException) as excinfo:
            revisions(missing).fetch()
        assert rest_error(excinfo) == (404, 20404), missing
    assert revisions("0003").fetch().revision == 3
    for bad in ("latest", "Latestpublished", "1.5", "-1", "two", "\u00b2", "\u0663"):
        with pytest.raises(TwilioRestException) as excinfo:
            revisions(bad).fetch()
        assert rest_error(excinfo) == (400, 81021), bad


def test_published_create_is_the_latest_published_revision(client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="pub", status="published", definition=MINIMAL_DEFINITION
    )
    published = client.studio.v2.flows(flow.sid).revisions("LatestPublished").fetch()
    assert published.revision == 1
    assert published.status == "published"


def test_revision_body_has_the_spec_fields(server: Server, client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="fields", status="draft", definition=MINIMAL_DEFINITION
    )
    with raw(server, client) as http:
        body = http.get(f"/v2/Flows/{flow.sid}/Revisions/1").json()
        listed = http.get(f"/v2/Flows/{flow.sid}/Revisions").json()
    assert set(body) == REVISION_KEYS
    assert body["definition"] == MINIMAL_DEFINITION
    assert listed["meta"]["key"] == "revisions"
    assert listed["revisions"] == [body]


def test_invalid_update_stores_no_revision(client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="keep", status="draft", definition=MINIMAL_DEFINITION
    )
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows(flow.sid).update(status="published", definition=INVALID_DEFINITION)
    assert rest_error(excinfo) == (400, 81022)
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows(flow.sid).update(status="published", definition="{not json")
    assert rest_error(excinfo) == (400, 20001)
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows(flow.sid).update(status="archived")
    assert rest_error(excinfo) == (400, 20001)
    fetched = client.studio.v2.flows(flow.sid).fetch()
    assert fetched.revision == 1
    assert fetched.status == "draft"
    assert fetched.definition == MINIMAL_DEFINITION
    assert [r.revision for r in client.studio.v2.flows(flow.sid).revisions.list()] == [1]


# --- delete ------------------------------------------------------------------------------------


def test_delete_answers_204_and_removes_everything(server: Server, client: Client) -> None:
    flows = client.studio.v2.flows
    keep = flows.create(friendly_name="keep", status="draft", definition=MINIMAL_DEFINITION)
    gone = flows.create(friendly_name="gone", status="draft", definition=MINIMAL_DEFINITION)
    flows(gone.sid).update(status="published")
    assert flows(gone.sid).delete() is True
    assert [f.sid for f in flows.list()] == [keep.sid]
    for call in (
        lambda: flows(gone.sid).fetch(),
        lambda: flows(gone.sid).revisions(1).fetch(),
        lambda: flows(gone.sid).test_users().fetch(),
        lambda: flows(gone.sid).update(status="draft"),
        lambda: flows(gone.sid).delete(),
    ):
        with pytest.raises(TwilioRestException) as excinfo:
            call()
        assert rest_error(excinfo) == (404, 20404)

    with raw(server, client) as http:
        response = http.delete(f"/v2/Flows/{keep.sid}")
        assert response.status_code == 204
        assert response.content == b""
        assert "content-type" not in response.headers
        assert http.get(f"/v2/Flows/{keep.sid}").status_code == 404
        assert http.get(f"/v2/Flows/{keep.sid}/Revisions").status_code == 404
    assert flows.list() == []


# --- test users --------------------------------------------------------------------------------


def test_test_users_fetch_and_replace(server: Server, client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="tu", status="draft", definition=MINIMAL_DEFINITION
    )
    context = client.studio.v2.flows(flow.sid).test_users()
    empty = context.fetch()
    assert empty.sid == flow.sid
    assert empty.test_users == []
    assert empty.url == f"{server.base_url}/v2/Flows/{flow.sid}/TestUsers"

    # The SDK sends a list as repeated TestUsers parameters.
    users = ["+14155550100", "client:alice", "whatsapp:+14155550199"]
    updated = context.update(test_users=users)
    assert updated.sid == flow.sid
    assert updated.test_users == users
    assert context.fetch().test_users == users

    # An update replaces the list, it does not add to it.
    assert context.update(test_users=["client:bob"]).test_users == ["client:bob"]
    assert context.fetch().test_users == ["client:bob"]

    # Test users are not part of the definition: no revision is added.
    assert client.studio.v2.flows(flow.sid).fetch().revision == 1


def test_test_users_update_requires_a_user(client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="tu", status="draft", definition=MINIMAL_DEFINITION
    )
    context = client.studio.v2.flows(flow.sid).test_users()
    context.update(test_users=["client:carol"])
    with pytest.raises(TwilioRestException) as excinfo:
        context.update(test_users=[])  # nothing is sent
    assert rest_error(excinfo) == (400, 20001)
    assert "TestUsers" in excinfo.value.msg
    assert context.fetch().test_users == ["client:carol"]


def test_test_users_repeated_parameters_on_the_wire(server: Server, client: Client) -> None:
    flow = client.studio.v2.flows.create(
        friendly_name="tu", status="draft", definition=MINIMAL_DEFINITION
    )
    with raw(server, client) as http:
        response = http.post(
            f"/v2/Flows/{flow.sid}/TestUsers",
            content="TestUsers=%2B14155550100&TestUsers=client%3Aalice",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert response.json() == {
            "sid": flow.sid,
            "test_users": ["+14155550100", "client:alice"],
            "url": f"{server.base_url}/v2/Flows/{flow.sid}/TestUsers",
        }
        assert http.get(f"/v2/Flows/{flow.sid}/TestUsers").json() == response.json()


# --- validate ----------------------------------------------------------------------------------


def test_validate_accepts_a_valid_definition(client: Client) -> None:
    result = client.studio.v2.flow_validate.update(
        friendly_name="check", status="draft", definition=MINIMAL_DEFINITION
    )
    assert result.valid is True
    assert client.studio.v2.flows.list() == []  # validating stores nothing


def test_validate_rejects_an_invalid_definition_with_details(
    server: Server, client: Client
) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flow_validate.update(
            friendly_name="check", status="published", definition=INVALID_DEFINITION
        )
    assert rest_error(excinfo) == (400, 81022)
    errors = excinfo.value.details["errors"]
    assert errors
    for item in errors:
        assert set(item) == {"message", "property_path"}
        assert item["message"]
        assert item["property_path"].startswith("#")
    assert any("initial_state" in item["property_path"] for item in errors), errors
    assert client.studio.v2.flows.list() == []

    with raw(server, client) as http:
        response = http.post(
            "/v2/Flows/Validate",
            data={
                "FriendlyName": "check",
                "Status": "draft",
                "Definition": json.dumps(INVALID_DEFINITION),
            },
        )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status", "details"}
    assert body["code"] == 81022
    assert body["status"] == 400
    assert body["more_info"] == "https://www.twilio.com/docs/errors/81022"
    assert body["details"]["errors"] == errors


def test_validate_checks_the_other_parameters(client: Client) -> None:
    validate = client.studio.v2.flow_validate
    cases = [
        {"friendly_name": "x", "status": "draft", "definition": "not json"},
        {"friendly_name": "x", "status": "archived", "definition": MINIMAL_DEFINITION},
        {"friendly_name": None, "status": "draft", "definition": MINIMAL_DEFINITION},
        {"friendly_name": "x", "status": None, "definition": MINIMAL_DEFINITION},
        {"friendly_name": "x", "status": "draft", "definition": None},
    ]
    for kwargs in cases:
        with pytest.raises(TwilioRestException) as excinfo:
            validate.update(**kwargs)
        assert rest_error(excinfo) == (400, 20001), kwargs


def test_invalid_create_stores_nothing(client: Client) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.studio.v2.flows.create(
            friendly_name="bad", status="draft", definition=INVALID_DEFINITION
        )
    assert rest_error(excinfo) == (400, 81022)
    assert excinfo.value.details["errors"]
    assert client.studio.v2.flows.list() == []


def test_create_refuses_missing_and_malformed_parameters(client: Client) -> None:
    flows = client.studio.v2.flows
    cases = {
        "FriendlyName": {"friendly_name": None, "status": "draft", "definition": {}},
        "Status": {"friendly_name": "x", "status": None, "definition": MINIMAL_DEFINITION},
        "Definition": {"friendly_name": "x", "status": "draft", "definition": None},
    }
    for name, kwargs in cases.items():
        with pytest.raises(TwilioRestException) as excinfo:
            flows.create(**kwargs)
        assert rest_error(excinfo) == (400, 20001), name
        assert name in excinfo.value.msg
    for kwargs in (
        {"friendly_name": "x", "status": "archived", "definition": MINIMAL_DEFINITION},
        {"friendly_name": "x", "status": "draft", "definition": "{'single': 'quotes'}"},
        {"friendly_name": "x", "status": "draft", "definition": ""},
    ):
        with pytest.raises(TwilioRestException) as excinfo:
            flows.create(**kwargs)
        assert rest_error(excinfo) == (400, 20001), kwargs
    assert flows.list() == []
