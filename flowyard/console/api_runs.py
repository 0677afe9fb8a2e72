"""The console's JSON API for executions, traffic counts and the simulator.

Executions are read and deleted through ``flowyard.service.executions`` and run through the
app's ``Runtime`` (``request.app.state.runtime``), exactly as the REST API and the flow webhook
do: the console holds no engine logic of its own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.responses import JSON, no_content, raw_json, twilio_date
from flowyard.console import queries, session
from flowyard.console.api_alerts import alert_json
from flowyard.console.api_flows import after_key
from flowyard.errors import TwilioError, invalid_parameter
from flowyard.service import flows as flow_service
from flowyard.store import alerts as alert_store
from flowyard.store.clock import utcnow
from flowyard.store.paging import Window

MAX_STEPS = 1000  # the runtime's step limit: one page holds a whole execution


def _executions() -> Any:
    # Imported on first use so the console's flow pages work while the runtime is absent.
    from flowyard.service import executions

    return executions


def runtime_of(request: Request) -> Any:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise TwilioError(503, 20503, "Executions are not available on this server")
    return runtime


def _day(raw: str | None, name: str, *, end: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise invalid_parameter(name, "must be a date, YYYY-MM-DD") from None
    start = datetime.combine(day, datetime.min.time())
    return start + timedelta(days=1, seconds=-1) if end else start


def execution_json(row: Any) -> dict[str, Any]:
    return {
        "sid": row.sid,
        "flow_sid": row.flow_sid,
        "flow_revision": row.flow_revision,
        "contact": row.contact_channel_address,
        "status": row.status,
        "waiting_for": row.waiting_for,
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
    }


async def list_executions(request: Request) -> Response:
    sess = session.require(request)
    params = request.query_params
    status = params.get("status") or None
    if status not in (None, "active", "ended"):
        raise invalid_parameter("status", "must be active or ended")
    contact = (params.get("contact") or "").strip() or None
    if contact is not None and len(contact) > 100:
        raise invalid_parameter("contact", "must be at most 100 characters")
    result = _executions().list_executions(
        request.app.state.db,
        sess.account_sid,
        request.path_params["sid"],
        Window(size=50, after=after_key(request)),
        status=status,
        created_from=_day(params.get("from"), "from"),
        created_to=_day(params.get("to"), "to", end=True),
        contact=contact,
    )
    next_after = result.rows[-1].id if result.has_more and result.rows else None
    return JSON({"executions": [execution_json(r) for r in result.rows], "next": next_after})


async def fetch_execution(request: Request) -> Response:
    """The execution, its steps each with the context right after it, its revision, and its
    alerts (oldest first; each names the step that left the widget that failed)."""
    sess = session.require(request)
    db, flow_sid, sid = request.app.state.db, request.path_params["sid"], request.path_params["ex"]
    executions = _executions()
    row = executions.get_execution(db, sess.account_sid, flow_sid, sid)
    steps, contexts = executions.list_steps(
        db, sess.account_sid, flow_sid, sid, Window(size=MAX_STEPS)
    )
    revision = flow_service.get_revision(db, sess.account_sid, flow_sid, str(row.flow_revision))
    with db.connect() as conn:
        alerts = alert_store.for_execution(conn, sess.account_sid, sid)
    return JSON(
        {
            "execution": execution_json(row),
            "context": raw_json(row.context),
            "definition": raw_json(revision.definition),
            "steps": [
                {
                    "sid": step.sid,
                    "event": step.name,
                    "from": step.transitioned_from,
                    "to": step.transitioned_to,
                    "type": step.type,
                    "date": twilio_date(step.date_created),
                    "context": context,
                }
                # Oldest first: a timeline reads forwards (the service lists newest first).
                for step, context in sorted(
                    zip(steps.rows, contexts, strict=True), key=lambda pair: pair[0].id
                )
            ],
            "alerts": [alert_json(alert) for alert in alerts],
        }
    )


async def end_execution(request: Request) -> Response:
    sess = session.require(request)
    row = await runtime_of(request).end_execution(
        sess.account_sid, request.path_params["sid"], request.path_params["ex"]
    )
    return JSON(execution_json(row))


async def delete_execution(request: Request) -> Response:
    sess = session.require(request)
    _executions().delete_execution(
        request.app.state.db,
        sess.account_sid,
        request.path_params["sid"],
        request.path_params["ex"],
    )
    return no_content()


async def traffic(request: Request) -> Response:
    """How many executions entered each widget in the last ``hours`` (or ``all``), and how
    often each transition (from, event, to) was taken: the canvas marks those never taken."""
    sess = session.require(request)
    db, flow_sid = request.app.state.db, request.path_params["sid"]
    hours = request.query_params.get("hours", "24")
    since = None
    if hours != "all":
        if not (hours.isascii() and hours.isdigit() and 0 < int(hours) <= 24 * 366):
            raise invalid_parameter("hours", "must be a number of hours up to a year, or all")
        since = utcnow() - timedelta(hours=int(hours))
    flow = flow_service.get_flow(db, sess.account_sid, flow_sid)
    with db.connect() as conn:
        started, entered = queries.widget_traffic(conn, sess.account_sid, flow_sid, since)
        taken = queries.transition_traffic(conn, sess.account_sid, flow_sid, since)
    initial = orjson.loads(flow.definition).get("initial_state")
    if isinstance(initial, str):
        entered[initial] = max(entered.get(initial, 0), started)
    transitions = [
        {"from": source, "event": event, "to": target, "count": count}
        for source, event, target, count in taken
    ]
    return JSON({"executions": started, "widgets": entered, "transitions": transitions})


routes = [
    Route("/console/api/flows/{sid}/executions", list_executions, methods=["GET"]),
    Route("/console/api/flows/{sid}/executions/{ex}", fetch_execution, methods=["GET"]),
    Route("/console/api/flows/{sid}/executions/{ex}", delete_execution, methods=["DELETE"]),
    Route("/console/api/flows/{sid}/executions/{ex}/end", end_execution, methods=["POST"]),
    Route("/console/api/flows/{sid}/traffic", traffic, methods=["GET"]),
]
