"""Studio v1: Flows (list, fetch, delete) over the same stored flows."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, query
from flowyard.api.responses import JSON, no_content, twilio_date
from flowyard.service import flows as service


def flow_resource(row: Any, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Flows/{row.sid}"
    return {
        "sid": row.sid,
        "account_sid": row.account_sid,
        "friendly_name": row.friendly_name,
        "status": row.status,
        "version": row.revision,
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
        "url": url,
        "links": {"engagements": f"{url}/Engagements", "executions": f"{url}/Executions"},
    }


async def list_flows(request: Request) -> Response:
    account = account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    result = service.list_flows(request.app.state.db, account, window)
    base = base_url(request)
    return JSON(
        envelope(
            "flows",
            [flow_resource(row, base) for row in result.rows],
            base=base,
            path="/v1/Flows",
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


async def delete_flow(request: Request) -> Response:
    account = account_sid(request)
    service.delete_flow(request.app.state.db, account, request.path_params["sid"])
    return no_content()


routes = [
    Route("/v1/Flows", list_flows, methods=["GET"]),
    Route("/v1/Flows/{sid}", fetch_flow, methods=["GET"]),
    Route("/v1/Flows/{sid}", delete_flow, methods=["DELETE"]),
]
