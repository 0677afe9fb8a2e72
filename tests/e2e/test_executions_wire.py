"""Executions on the wire: every v1/v2/Engagements body against the spec, filters and paging."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.helpers import wait_for, wait_steps
from tests.flows import flow, go, state
from tests.spec import check, operations

NUMBER = "+15559990000"

WAITING = flow(
    state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage", "note"), go("timeout"), go("deliveryFailure")],
        body="Hi",
        timeout="3600",
        **{"from": NUMBER},
    ),
    state("note", "set-variables", [go("next")], variables=[{"key": "a", "value": "b"}]),
    rest="ask",
)


def _flow(http: httpx.Client) -> str:
    response = http.post(
        "/v2/Flows",
        data={
            "FriendlyName": "wire",
            "Status": "published",
            "Definition": __import__("json").dumps(WAITING),
        },
    )
    assert response.status_code == 201
    return response.json()["sid"]


@pytest.fixture
def http(server) -> httpx.Client:
    sid, token = server.new_account()
    return httpx.Client(base_url=server.base_url, auth=(sid, token))


def test_every_execution_operation_matches_the_spec(http):
    flow_sid = _flow(http)
    covered: set[tuple[str, str]] = set()

    def call(method: str, template: str, path: str, **kwargs):
        response = http.request(method, path, **kwargs)
        check(response, template)
        covered.add((method, template))
        return response

    for version, collection in (("v2", "Executions"), ("v1", "Executions"), ("v1", "Engagements")):
        base = f"/{version}/Flows/{{FlowSid}}/{collection}"
        owner = "ExecutionSid" if collection == "Executions" else "EngagementSid"
        contact = f"+1555{len(covered):07d}"
        created = call(
            "POST",
            base,
            f"/{version}/Flows/{flow_sid}/{collection}",
            data={"To": contact, "From": NUMBER},
        ).json()
        sid = created["sid"]
        one = f"/{version}/Flows/{flow_sid}/{collection}/{sid}"
        # The flow runs after the create answered: go on once it waits at its first widget.
        wait_for(lambda: http.get(one + "/Steps").json()["steps"])  # noqa: B023
        call("GET", base, f"/{version}/Flows/{flow_sid}/{collection}")
        call("GET", base + "/{Sid}", one)
        call("GET", base + f"/{{{owner}}}/Context", one + "/Context")
        steps = call("GET", base + f"/{{{owner}}}/Steps", one + "/Steps").json()["steps"]
        step = steps[0]["sid"]
        call("GET", base + f"/{{{owner}}}/Steps/{{Sid}}", one + f"/Steps/{step}")
        call(
            "GET", base + f"/{{{owner}}}/Steps/{{StepSid}}/Context", one + f"/Steps/{step}/Context"
        )
        if collection == "Executions":
            ended = call("POST", base + "/{Sid}", one, data={"Status": "ended"}).json()
            assert ended["status"] == "ended"
        call("DELETE", base + "/{Sid}", one)
    expected = {
        (method, path)
        for version in (1, 2)
        for method, path in operations(version)
        if "/Executions" in path or "/Engagements" in path
    }
    assert covered == expected


def test_filters_and_paging_keep_every_filter(http, server):
    flow_sid = _flow(http)
    executions = f"/v2/Flows/{flow_sid}/Executions"
    sids = [
        http.post(executions, data={"To": f"+1555000{i:04d}", "From": NUMBER}).json()["sid"]
        for i in range(5)
    ]
    http.post(f"{executions}/{sids[0]}", data={"Status": "ended"})
    page = http.get(
        executions,
        params={"status": "active", "PageSize": 2, "DateCreatedFrom": "2020-01-01T00:00:00Z"},
    ).json()
    assert [e["sid"] for e in page["executions"]] == [sids[4], sids[3]]  # newest first
    next_url = page["meta"]["next_page_url"]
    assert next_url.startswith(server.base_url) and "status=active" in next_url
    assert "DateCreatedFrom=2020-01-01T00%3A00%3A00Z" in next_url
    second = http.get(next_url).json()
    assert [e["sid"] for e in second["executions"]] == [sids[2], sids[1]]
    assert second["meta"]["next_page_url"] is None
    assert second["meta"]["previous_page_url"].startswith(server.base_url)
    assert (
        http.get(executions, params={"status": "ended"}).json()["executions"][0]["sid"] == sids[0]
    )
    future = http.get(executions, params={"DateCreatedFrom": "2999-01-01"}).json()
    assert future["executions"] == []
    past = http.get(executions, params={"DateCreatedTo": "2000-01-01T00:00:00+02:00"}).json()
    assert past["executions"] == []
    bad = http.get(executions, params={"DateCreatedFrom": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == 20001
    bad = http.get(executions, params={"status": "sleeping"})
    assert bad.status_code == 400 and bad.json()["code"] == 20001


def test_sdk_pages_through_executions_and_steps(server, client):
    flow_ = client.studio.v2.flows.create(friendly_name="p", status="published", definition=WAITING)
    executions = client.studio.v2.flows(flow_.sid).executions
    for i in range(7):
        executions.create(to=f"+1555111{i:04d}", from_=NUMBER)
    assert len(executions.list(page_size=3)) == 7
    assert len(list(executions.stream(page_size=2, limit=5))) == 5
    assert len(client.studio.v1.flows(flow_.sid).engagements.list(page_size=2)) == 7


def test_v1_engagement_and_step_shapes(server, client):
    flow_ = client.studio.v2.flows.create(friendly_name="e", status="published", definition=WAITING)
    engagement = client.studio.v1.flows(flow_.sid).engagements.create(
        to="+15552220000", from_=NUMBER
    )
    assert engagement.sid.startswith("FN") and engagement.status == "active"
    assert engagement.contact_channel_address == "+15552220000"
    wait_steps(client, flow_.sid, engagement.sid, 1)
    steps = client.studio.v1.flows(flow_.sid).engagements(engagement.sid).steps.list()
    assert [s.transitioned_to for s in steps] == ["ask"]
    ctx = client.studio.v1.flows(flow_.sid).engagements(engagement.sid).engagement_context()
    assert ctx.fetch().context["contact"]["channel"]["address"] == "+15552220000"
    # The same execution is visible through v2.
    fetched = client.studio.v2.flows(flow_.sid).executions(engagement.sid).fetch()
    assert fetched.flow_version == 1 and fetched.initiated_by.startswith("RQ")
