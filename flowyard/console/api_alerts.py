"""The console's view of Debugger alerts: a flow's recent ones, and the JSON form the execution
page and the simulator share. Every read is bound to the signed-in account."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.responses import JSON, twilio_date
from flowyard.console import session
from flowyard.service import flows as flow_service
from flowyard.service.alerts import more_info
from flowyard.store import alerts as store

RECENT = 20  # alerts the flow page lists


def alert_json(row: Any) -> dict[str, Any]:
    """One alert as the console's pages show it (the readable message, not alert_text)."""
    return {
        "sid": row.sid,
        "error_code": row.error_code,
        "log_level": row.log_level,
        "message": row.message,
        "widget": row.widget,
        "execution_sid": row.execution_sid,
        "step_sid": row.step_sid,
        "more_info": more_info(row.error_code),
        "request_url": row.request_url,
        "date_generated": twilio_date(row.date_generated),
    }


async def flow_alerts(request: Request) -> Response:
    """The flow's newest alerts, newest first, each naming its execution."""
    sess = session.require(request)
    flow_sid = request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        flow_service.require_flow(conn, sess.account_sid, flow_sid)
        rows = store.recent_for_flow(conn, sess.account_sid, flow_sid, RECENT)
    return JSON({"alerts": [alert_json(row) for row in rows]})


routes = [Route("/console/api/flows/{sid}/alerts", flow_alerts, methods=["GET"])]
