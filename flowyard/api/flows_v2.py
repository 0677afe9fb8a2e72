"""Studio v2: Flows, Revisions, TestUsers and Validate."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api import checks
from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, form, query
from flowyard.api.responses import JSON, no_content, raw_json, twilio_date
from flowyard.service import flows as service


def flow_links(url: str) -> dict[str, str]:
    """The links of the flow at ``url`` (its absolute v2 URL)."""
    return {
        "test_users": f"{url}/TestUsers",
        "revisions": f"{url}/Revisions",
        "executions": f"{url}/Executions",
    }


def flow_resource(row: Any, base: str, *, full: bool = True) -> dict[str, Any]:
    """The v2 Flow; list items carry no definition, validity, errors or warnings, as on Twilio."""
    # Built fifty times per list page: each field is read from the row once.
    sid, account_sid = row.sid, row.account_sid
    url = f"{base}/v2/Flows/{sid}"
    return {
        "sid": sid,
        "account_sid": account_sid,
        "author_sid": row.author_sid,
        "friendly_name": row.friendly_name,
        "definition": raw_json(row.definition) if full else None,
        "status": row.status,
        "revision": row.revision,
        "commit_message": row.commit_message,
        "valid": row.valid if full else None,
        "errors": raw_json(row.errors) if full else None,
        "warnings": raw_json(row.warnings) if full else None,
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
        "webhook_url": f"{base}/v1/Accounts/{account_sid}/Flows/{sid}",
        "url": url,
        "links": flow_links(url),
    }


def revision_resource(row: Any, base: str) -> dict[str, Any]:
    return {
        "sid": row.flow_sid,
        "account_sid": row.account_sid,
        "author_sid": row.author_sid,
        "friendly_name": row.friendly_name,
        "definition": raw_json(row.definition),
        "status": row.status,
        "revision": row.revision,
        "commit_message": row.commit_message,
        "valid": row.valid,
        "errors": raw_json(row.errors),
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
        "url": f"{base}/v2/Flows/{row.flow_sid}/Revisions/{row.revision}",
    }


async def create_flow(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    checks.flow_params(params)
    row = service.create_flow(
        request.app.state.db,
        account,
        friendly_name=params.get("FriendlyName"),
        status=params.get("Status"),
        definition=params.get("Definition"),
        commit_message=params.get("CommitMessage"),
        author_sid=params.get("AuthorSid"),
    )
    return JSON(flow_resource(row, base_url(request)), 201)


async def list_flows(request: Request) -> Response:
    account = account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    result = service.list_flows(request.app.state.db, account, window)
    base = base_url(request)
    items = [flow_resource(row, base, full=False) for row in result.rows]
    return JSON(
        envelope(
            "flows",
            items,
            base=base,
            path="/v2/Flows",
            filters=(),
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


async def fetch_flow(request: Request) -> Response:
    account = account_sid(request)
    row = service.get_flow(request.app.state.db, account, request.path_params["sid"])
    return JSON(flow_resource(row, base_url(request)))


async def update_flow(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    checks.flow_params(params)
    row = service.update_flow(
        request.app.state.db,
        account,
        request.path_params["sid"],
        friendly_name=params.get("FriendlyName"),
        status=params.get("Status"),
        definition=params.get("Definition"),
        commit_message=params.get("CommitMessage"),
        author_sid=params.get("AuthorSid"),
    )
    return JSON(flow_resource(row, base_url(request)))


async def delete_flow(request: Request) -> Response:
    account = account_sid(request)
    service.delete_flow(request.app.state.db, account, request.path_params["sid"])
    return no_content()


async def validate_flow(request: Request) -> Response:
    account_sid(request)
    params = await form(request)
    checks.flow_params(params)
    service.validate_flow(
        params.get("FriendlyName"), params.get("Status"), params.get("Definition")
    )
    return JSON({"valid": True})


async def list_revisions(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["sid"]
    params = query(request)
    window, size, page = window_from(params)
    result = service.list_revisions(request.app.state.db, account, sid, window)
    base = base_url(request)
    return JSON(
        envelope(
            "revisions",
            [revision_resource(r, base) for r in result.rows],
            base=base,
            path=f"/v2/Flows/{sid}/Revisions",
            filters=(),
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.revision,
        )
    )


async def fetch_revision(request: Request) -> Response:
    account = account_sid(request)
    row = service.get_revision(
        request.app.state.db,
        account,
        request.path_params["sid"],
        request.path_params["revision"],
    )
    return JSON(revision_resource(row, base_url(request)))


def _test_users(request: Request, sid: str, users: list[str]) -> Response:
    return JSON(
        {
            "sid": sid,
            "test_users": users,
            "url": f"{base_url(request)}/v2/Flows/{sid}/TestUsers",
        }
    )


async def fetch_test_users(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["sid"]
    return _test_users(request, sid, service.get_test_users(request.app.state.db, account, sid))


async def update_test_users(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["sid"]
    users = checks.test_users((await form(request)).getlist("TestUsers"))
    return _test_users(
        request, sid, service.set_test_users(request.app.state.db, account, sid, users)
    )


# Routes are tried in order: the busiest, fetch, goes first. Nothing else it matches is a GET
# (Validate is POST only: GET /v2/Flows/Validate was already a fetch of a flow "Validate").
routes = [
    Route("/v2/Flows/{sid}", fetch_flow, methods=["GET"]),
    Route("/v2/Flows", list_flows, methods=["GET"]),
    Route("/v2/Flows", create_flow, methods=["POST"]),
    Route("/v2/Flows/Validate", validate_flow, methods=["POST"]),
    Route("/v2/Flows/{sid}", update_flow, methods=["POST"]),
    Route("/v2/Flows/{sid}", delete_flow, methods=["DELETE"]),
    Route("/v2/Flows/{sid}/Revisions", list_revisions, methods=["GET"]),
    Route("/v2/Flows/{sid}/Revisions/{revision}", fetch_revision, methods=["GET"]),
    Route("/v2/Flows/{sid}/TestUsers", fetch_test_users, methods=["GET"]),
    Route("/v2/Flows/{sid}/TestUsers", update_test_users, methods=["POST"]),
]
