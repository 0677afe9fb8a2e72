"""Executions (v2, v1) and Engagements (v1's legacy name), with Context and Steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api import checks
from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, date_param, form, query
from flowyard.api.responses import JSON, no_content, raw_json, twilio_date
from flowyard.errors import invalid_parameter
from flowyard.service import executions as service


@dataclass(frozen=True)
class Flavour:
    """How one URL family names and shapes the same executions."""

    version: str  # "v1" or "v2"
    collection: str  # "Executions" or "Engagements"
    key: str  # list key: "executions" or "engagements"
    owner_field: str  # a step's parent field: "execution_sid" or "engagement_sid"
    context_link: str  # "execution_context" or "engagement_context"

    def url(self, base: str, flow_sid: str, sid: str = "") -> str:
        url = f"{base}/{self.version}/Flows/{flow_sid}/{self.collection}"
        return f"{url}/{sid}" if sid else url


V2 = Flavour("v2", "Executions", "executions", "execution_sid", "execution_context")
V1 = Flavour("v1", "Executions", "executions", "execution_sid", "execution_context")
ENGAGEMENTS = Flavour("v1", "Engagements", "engagements", "engagement_sid", "engagement_context")


def execution_resource(row: Any, base: str, flavour: Flavour) -> dict[str, Any]:
    url = flavour.url(base, row.flow_sid, row.sid)
    resource = {
        "sid": row.sid,
        "account_sid": row.account_sid,
        "flow_sid": row.flow_sid,
        "contact_sid": row.contact_sid,
        "contact_channel_address": row.contact_channel_address,
        "context": raw_json(row.context),
        "status": row.status,
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
        "url": url,
        "links": {"steps": f"{url}/Steps", flavour.context_link: f"{url}/Context"},
    }
    if flavour is V2:
        resource["flow_version"] = row.flow_revision
        resource["initiated_by"] = row.initiated_by
    return resource


def context_resource(row: Any, context: Any, base: str, flavour: Flavour) -> dict[str, Any]:
    return {
        "account_sid": row.account_sid,
        "context": context,
        "flow_sid": row.flow_sid,
        flavour.owner_field: row.sid,
        "url": flavour.url(base, row.flow_sid, row.sid) + "/Context",
    }


def step_resource(step: Any, context: Any, base: str, flavour: Flavour) -> dict[str, Any]:
    url = flavour.url(base, step.flow_sid, step.execution_sid) + f"/Steps/{step.sid}"
    return {
        "sid": step.sid,
        "account_sid": step.account_sid,
        "flow_sid": step.flow_sid,
        flavour.owner_field: step.execution_sid,
        "parent_step_sid": step.parent_step_sid,
        "name": step.name,
        "context": context,
        "transitioned_from": step.transitioned_from,
        "transitioned_to": step.transitioned_to,
        "type": step.type,
        "date_created": twilio_date(step.date_created),
        "date_updated": twilio_date(step.date_created),
        "url": url,
        "links": {"step_context": f"{url}/Context"},
    }


def _routes(flavour: Flavour, *, writable: bool) -> list[Route]:
    prefix = f"/{flavour.version}/Flows/{{flow}}/{flavour.collection}"

    async def create(request: Request) -> Response:
        account = account_sid(request)
        params = await form(request)
        checks.execution_params(params)
        row = await request.app.state.runtime.create_execution(
            account,
            request.path_params["flow"],
            to=params.get("To"),
            from_=params.get("From"),
            parameters=params.get("Parameters"),
            return_existing=flavour is not V2,
        )
        return JSON(
            execution_resource(row, base_url(request), flavour), 201 if flavour is V2 else 200
        )

    async def list_(request: Request) -> Response:
        account = account_sid(request)
        params = query(request)
        window, size, page = window_from(params)
        status = params.get("status") or params.get("Status")
        if status and status not in ("active", "ended"):
            raise invalid_parameter("status", "must be active or ended")
        created_from = date_param(params, "DateCreatedFrom")
        created_to = date_param(params, "DateCreatedTo")
        flow_sid = request.path_params["flow"]
        result = service.list_executions(
            request.app.state.db,
            account,
            flow_sid,
            window,
            status=status,
            created_from=created_from,
            created_to=created_to,
        )
        filters = [
            (k, v) for k in ("status", "DateCreatedFrom", "DateCreatedTo") if (v := params.get(k))
        ]
        base = base_url(request)
        return JSON(
            envelope(
                flavour.key,
                [execution_resource(r, base, flavour) for r in result.rows],
                base=base,
                path=prefix.replace("{flow}", flow_sid),
                filters=filters,
                params=params,
                size=size,
                page=page,
                result=result,
                key_of=lambda row: row.id,
            )
        )

    async def fetch(request: Request) -> Response:
        account = account_sid(request)
        row = service.get_execution(
            request.app.state.db, account, request.path_params["flow"], request.path_params["sid"]
        )
        return JSON(execution_resource(row, base_url(request), flavour))

    async def update(request: Request) -> Response:
        account = account_sid(request)
        status = (await form(request)).require("Status")
        if status != "ended":
            raise invalid_parameter("Status", "the only accepted value is ended")
        row = await request.app.state.runtime.end_execution(
            account, request.path_params["flow"], request.path_params["sid"]
        )
        return JSON(execution_resource(row, base_url(request), flavour))

    async def delete(request: Request) -> Response:
        account = account_sid(request)
        service.delete_execution(
            request.app.state.db, account, request.path_params["flow"], request.path_params["sid"]
        )
        return no_content()

    async def context(request: Request) -> Response:
        account = account_sid(request)
        row = service.get_execution(
            request.app.state.db, account, request.path_params["flow"], request.path_params["sid"]
        )
        return JSON(context_resource(row, raw_json(row.context), base_url(request), flavour))

    async def list_steps(request: Request) -> Response:
        account = account_sid(request)
        params = query(request)
        window, size, page = window_from(params)
        flow_sid, sid = request.path_params["flow"], request.path_params["sid"]
        result, contexts = service.list_steps(request.app.state.db, account, flow_sid, sid, window)
        base = base_url(request)
        items = [
            step_resource(s, c, base, flavour) for s, c in zip(result.rows, contexts, strict=True)
        ]
        return JSON(
            envelope(
                "steps",
                items,
                base=base,
                path=flavour.url("", flow_sid, sid) + "/Steps",
                filters=(),
                params=params,
                size=size,
                page=page,
                result=result,
                key_of=lambda row: row.id,
            )
        )

    async def fetch_step(request: Request) -> Response:
        account = account_sid(request)
        step, step_context = service.get_step(
            request.app.state.db,
            account,
            request.path_params["flow"],
            request.path_params["sid"],
            request.path_params["step"],
        )
        return JSON(step_resource(step, step_context, base_url(request), flavour))

    async def step_context(request: Request) -> Response:
        account = account_sid(request)
        step, ctx = service.get_step(
            request.app.state.db,
            account,
            request.path_params["flow"],
            request.path_params["sid"],
            request.path_params["step"],
        )
        url = flavour.url(base_url(request), step.flow_sid, step.execution_sid)
        return JSON(
            {
                "account_sid": step.account_sid,
                "context": ctx,
                flavour.owner_field: step.execution_sid,
                "flow_sid": step.flow_sid,
                "step_sid": step.sid,
                "url": f"{url}/Steps/{step.sid}/Context",
            }
        )

    routes = [
        Route(prefix, list_, methods=["GET"]),
        Route(prefix, create, methods=["POST"]),
        Route(prefix + "/{sid}", fetch, methods=["GET"]),
        Route(prefix + "/{sid}", delete, methods=["DELETE"]),
        Route(prefix + "/{sid}/Context", context, methods=["GET"]),
        Route(prefix + "/{sid}/Steps", list_steps, methods=["GET"]),
        Route(prefix + "/{sid}/Steps/{step}", fetch_step, methods=["GET"]),
        Route(prefix + "/{sid}/Steps/{step}/Context", step_context, methods=["GET"]),
    ]
    if writable:
        routes.append(Route(prefix + "/{sid}", update, methods=["POST"]))
    return routes


routes = [
    *_routes(V2, writable=True),
    *_routes(V1, writable=True),
    *_routes(ENGAGEMENTS, writable=False),
]
