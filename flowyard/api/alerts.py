"""Monitor API v1 Alerts: the Debugger's record of what went wrong, read through the SDK with
``client.monitor.base_url`` set to Flowyard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, date_param, query
from flowyard.api.responses import JSON, no_content, twilio_date
from flowyard.errors import invalid_parameter, not_found
from flowyard.service.alerts import more_info
from flowyard.store import alerts as store
from flowyard.store import write

LOG_LEVELS = ("error", "warning", "notice", "debug")


def alert_resource(row: Any, base: str, *, instance: bool = False) -> dict[str, Any]:
    resource = {
        "account_sid": row.account_sid,
        "alert_text": row.alert_text,
        "api_version": None,
        "date_created": twilio_date(row.date_created),
        "date_generated": twilio_date(row.date_generated),
        "date_updated": twilio_date(row.date_created),
        "error_code": str(row.error_code),
        "log_level": row.log_level,
        "more_info": more_info(row.error_code),
        "request_method": row.request_method,
        "request_url": row.request_url,
        "resource_sid": row.resource_sid,
        "sid": row.sid,
        "url": f"{base}/v1/Alerts/{row.sid}",
        "service_sid": None,
    }
    if instance:
        resource.update(
            request_variables=row.request_variables,
            response_body=row.response_body,
            response_headers=None,
            request_headers=None,
        )
    return resource


async def list_alerts(request: Request) -> Response:
    account = account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    level = params.get("LogLevel")
    if level and level not in LOG_LEVELS:
        raise invalid_parameter("LogLevel", f"must be one of {', '.join(LOG_LEVELS)}")
    start = date_param(params, "StartDate")
    end = date_param(params, "EndDate")
    if end is not None:  # "on or before": the whole day of a date, the whole second otherwise
        end += timedelta(days=1) if len(params.get("EndDate") or "") == 10 else timedelta(seconds=1)
    with request.app.state.db.connect() as conn:
        result = store.list_alerts(conn, account, window, log_level=level, start=start, end=end)
    base = base_url(request)
    return JSON(
        envelope(
            "alerts",
            [alert_resource(row, base) for row in result.rows],
            base=base,
            path="/v1/Alerts",
            filters=[(k, v) for k in ("LogLevel", "StartDate", "EndDate") if (v := params.get(k))],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


def _missing(sid: str) -> Exception:
    return not_found(f"/Alerts/{sid}")


async def fetch_alert(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        row = store.get_alert(conn, account, sid)
    if row is None:
        raise _missing(sid)
    return JSON(alert_resource(row, base_url(request), instance=True))


async def delete_alert(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["sid"]
    with write(request.app.state.db) as conn:
        deleted = store.delete_alert(conn, account, sid)
    if not deleted:
        raise _missing(sid)
    return no_content()


routes = [
    Route("/v1/Alerts", list_alerts, methods=["GET"]),
    Route("/v1/Alerts/{sid}", fetch_alert, methods=["GET"]),
    Route("/v1/Alerts/{sid}", delete_alert, methods=["DELETE"]),
]
