"""The simulator's API: play a contact against a flow through the same runtime calls as Twilio.

A typed message goes to ``Messaging.inbound`` with the parameters Twilio's webhook would
post; a REST start goes to ``Runtime.create_execution``. Both answer once the input is stored
and the flow runs after, so the simulator waits for the execution to settle
(``Runtime.settle``) before it reads what the flow sent back from the local platform's outbox,
and the execution's current widget from its steps, and the alerts its widgets raised (so the
transcript says why a widget failed). Calls are in ``simulator_call``.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.responses import JSON, twilio_date
from flowyard.console import queries, session
from flowyard.console.api_alerts import alert_json
from flowyard.console.api_flows import body
from flowyard.console.api_runs import execution_json, runtime_of
from flowyard.errors import TwilioError, invalid_parameter
from flowyard.service import flows as flow_service
from flowyard.service.messaging import Messaging
from flowyard.sids import new_sid

MAX_BODY = 1600  # Twilio's limit for one message body


def address_param(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise invalid_parameter(name, "must be a phone number or address")
    return value.strip()


def _message_params(account_sid: str, contact: str, address: str, text: str) -> dict[str, str]:
    """What Twilio posts to a flow's webhook for an inbound SMS."""
    sid = new_sid("SM")
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": account_sid,
        "From": contact,
        "To": address,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def _after(data: dict[str, Any], name: str = "after") -> int:
    value = data.get(name, 0)
    return value if isinstance(value, int) and 0 <= value <= 2**31 - 1 else 0


def _cursors(data: dict[str, Any]) -> tuple[int, int]:
    """Where the panel's transcript is: the last message and the last alert it showed."""
    return _after(data), _after(data, "alerts_after")


def _text(data: dict[str, Any]) -> str:
    text = data.get("body", "")
    if not isinstance(text, str) or len(text) > MAX_BODY:
        raise invalid_parameter("body", f"must be text of at most {MAX_BODY} characters")
    return text


def ensure_runnable(
    request: Request, account_sid: str, flow_sid: str, contact: str, run_draft: bool
) -> None:
    """Test users run the latest revision; everyone else needs a published one."""
    db = request.app.state.db
    flow = flow_service.get_flow(db, account_sid, flow_sid)
    users = orjson.loads(flow.test_users)
    if run_draft and contact not in users:
        flow_service.set_test_users(db, account_sid, flow_sid, [*users, contact])
    elif not run_draft and contact not in users and flow.published_revision is None:
        raise TwilioError(
            400, 20001, "This flow has no published revision: publish it, or run the draft"
        )


async def start(request: Request) -> Response:
    """Start an execution as a contact: by a first message, or by the REST trigger."""
    sess = session.require(request)
    data = await body(request)
    flow_sid = request.path_params["sid"]
    contact, address = address_param(data, "contact"), address_param(data, "address")
    ensure_runnable(request, sess.account_sid, flow_sid, contact, bool(data.get("run_draft")))
    runtime = runtime_of(request)
    if data.get("mode") == "rest":
        parameters = data.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise invalid_parameter("parameters", "must be a JSON object")
        row = await runtime.create_execution(
            sess.account_sid,
            flow_sid,
            to=contact,
            from_=address,
            parameters=orjson.dumps(parameters).decode(),
            return_existing=False,
        )
        await runtime.settle(row.sid)
    else:
        params = _message_params(sess.account_sid, contact, address, _text(data))
        await Messaging(runtime).inbound(sess.account_sid, flow_sid, params)
        await _settle_contact(request, sess.account_sid, flow_sid, contact)
    return await _state(request, sess, contact, _cursors(data))


async def reply(request: Request) -> Response:
    """The contact types a message: it resumes a waiting execution (or starts one)."""
    sess = session.require(request)
    data = await body(request)
    contact, address = address_param(data, "contact"), address_param(data, "address")
    flow_sid = request.path_params["sid"]
    params = _message_params(sess.account_sid, contact, address, _text(data))
    await Messaging(runtime_of(request)).inbound(sess.account_sid, flow_sid, params)
    await _settle_contact(request, sess.account_sid, flow_sid, contact)
    return await _state(request, sess, contact, _cursors(data))


async def _settle_contact(request: Request, account_sid: str, flow_sid: str, contact: str) -> None:
    """Wait for the flow to have run the contact's message: the execution it resumed or
    started is the contact's active one, or their newest (when it ended already)."""
    runtime = runtime_of(request)
    with request.app.state.db.connect() as conn:
        sids = queries.open_executions(conn, account_sid, flow_sid, contact)
    for sid in sids:
        await runtime.settle(sid)


async def state(request: Request) -> Response:
    """Messages and alerts since ``after`` and ``alerts_after``, and where the contact's
    latest execution is."""
    sess = session.require(request)
    params = request.query_params
    after = _number(params.get("after", "now"))
    # "now": only the cursors, so a new panel does not replay old conversations.
    cursors = None if after is None else (after, _number(params.get("alerts_after", "")) or 0)
    return await _state(request, sess, params.get("contact", ""), cursors)


def _number(raw: str) -> int | None:
    if raw.isascii() and raw.isdigit() and len(raw) <= 10:
        return min(int(raw), 2**31 - 1)
    return None


async def _state(
    request: Request, sess: session.Session, contact: str, cursors: tuple[int, int] | None
) -> Response:
    flow_sid, account_sid = request.path_params["sid"], sess.account_sid
    with request.app.state.db.connect() as conn:
        flow_service.require_flow(conn, account_sid, flow_sid)
        messages, alerts = [], []
        if cursors is not None:
            messages = queries.conversation(conn, account_sid, contact, cursors[0])
            alerts = queries.contact_alerts(conn, account_sid, flow_sid, contact, cursors[1])
            alert_cursor = max([cursors[1], *(a.id for a in alerts)])
        else:
            alert_cursor = queries.last_alert_id(conn, account_sid)
        execution = queries.latest_execution(conn, account_sid, flow_sid, contact)
        step = queries.last_step(conn, account_sid, execution.sid) if execution else None
        cursor = queries.last_message_id(conn, account_sid)
    current = None
    if execution is not None and execution.status == "active" and step is not None:
        current = step.transitioned_to
    return JSON(
        {
            "cursor": max([cursor, *(m.id for m in messages)]),
            "messages": [
                {
                    "id": m.id,
                    "direction": "inbound" if m.direction == "inbound" else "outbound",
                    "from": m.from_,
                    "to": m.to,
                    "body": m.body,
                    "date": twilio_date(m.date_created),
                }
                for m in messages
            ],
            # Why a widget failed, in the order it happened; the cursor only counts shown ones.
            "alerts": [alert_json(a) for a in alerts],
            "alert_cursor": alert_cursor,
            "execution": execution_json(execution) if execution else None,
            "current": current,
        }
    )


routes = [
    Route("/console/api/flows/{sid}/simulator", state, methods=["GET"]),
    Route("/console/api/flows/{sid}/simulator/start", start, methods=["POST"]),
    Route("/console/api/flows/{sid}/simulator/message", reply, methods=["POST"]),
]
