"""Events API v1 (Event Streams): webhook Sinks with their Test and Validate, and the event
Types Flowyard emits; read and written through the SDK with ``client.events.base_url`` set to
Flowyard. Subscriptions are in ``flowyard.api.subscriptions``. docs/event-streams.md."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api import checks
from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import Params, base_url, form, query
from flowyard.api.responses import JSON, no_content, twilio_date
from flowyard.errors import invalid_parameter, not_found
from flowyard.service import events
from flowyard.sids import is_sid, new_sid
from flowyard.store import events as store
from flowyard.store import write
from flowyard.store.clock import utcnow
from flowyard.store.paging import Slice, Window

MAX_DESCRIPTION = 255
MAX_DESTINATION = 2048
STATUSES = ("initialized", "validating", "active", "failed")
_TYPES_CHANGED = "2024-01-01T00:00:00Z"  # when this list of types was last changed


def sink_resource(row: Any, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Sinks/{row.sid}"
    return {
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
        "description": row.description,
        "sid": row.sid,
        "sink_configuration": orjson.loads(row.configuration),
        "sink_type": row.sink_type,
        "status": row.status,
        "url": url,
        "links": {"sink_test": f"{url}/Test", "sink_validate": f"{url}/Validate"},
    }


def description(params: Params) -> str:
    value = checks.text("Description", params.require("Description"), MAX_DESCRIPTION)
    assert value is not None
    if not value.strip():
        raise invalid_parameter("Description", "must not be empty")
    return value


def webhook_configuration(raw: str) -> dict[str, Any]:
    """A webhook sink's ``SinkConfiguration``: ``destination`` (an http(s) URL), ``method``
    (POST or GET, POST when left out) and ``batch_events`` (a boolean, false by default)."""
    try:
        config = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_parameter("SinkConfiguration", "must be a JSON object") from None
    if not isinstance(config, dict):
        raise invalid_parameter("SinkConfiguration", "must be a JSON object")
    destination = config.get("destination")
    if not isinstance(destination, str) or not destination:
        raise invalid_parameter("SinkConfiguration", "needs a destination URL")
    checks.text("SinkConfiguration", destination, MAX_DESTINATION)
    parts = urlsplit(destination)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_parameter("SinkConfiguration", "destination must be an http(s) URL")
    method = str(config.get("method") or "POST").upper()
    if method not in ("POST", "GET"):
        raise invalid_parameter("SinkConfiguration", "method must be POST or GET")
    batch = config.get("batch_events", False)
    if isinstance(batch, str) and batch.lower() in ("true", "false"):
        batch = batch.lower() == "true"
    if not isinstance(batch, bool):
        raise invalid_parameter("SinkConfiguration", "batch_events must be true or false")
    return {"destination": destination, "method": method, "batch_events": batch}


def require_sink(conn: Any, account: str, sid: str) -> Any:
    row = store.get_sink(conn, account, sid) if is_sid(sid, "DG") else None
    if row is None:
        raise not_found(f"/Sinks/{sid}")
    return row


async def create_sink(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    text = description(params)
    kind = params.require("SinkType")
    if kind != "webhook":
        raise invalid_parameter("SinkType", "Flowyard delivers to webhook sinks only")
    config = webhook_configuration(params.require("SinkConfiguration"))
    now = utcnow()
    row = {
        "sid": new_sid("DG"),
        "account_sid": account,
        "description": text,
        "sink_type": kind,
        "configuration": orjson.dumps(config).decode(),
        "status": "initialized",
        "failures": 0,
        "date_created": now,
        "date_updated": now,
    }
    with write(request.app.state.db) as conn:
        saved = store.insert_sink(conn, row)
    return JSON(sink_resource(saved, base_url(request)), 201)


async def list_sinks(request: Request) -> Response:
    account = account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    status = params.get("Status")
    if status and status not in STATUSES:
        raise invalid_parameter("Status", f"must be one of {', '.join(STATUSES)}")
    in_use_text = (params.get("InUse") or "").lower()
    if in_use_text not in ("", "true", "false"):
        raise invalid_parameter("InUse", "must be true or false")
    in_use = None if not in_use_text else in_use_text == "true"
    with request.app.state.db.connect() as conn:
        result = store.list_sinks(conn, account, window, status=status, in_use=in_use)
    base = base_url(request)
    filters = [(k, v) for k in ("InUse", "Status") if (v := params.get(k))]
    return JSON(
        envelope(
            "sinks",
            [sink_resource(r, base) for r in result.rows],
            base=base,
            path="/v1/Sinks",
            filters=filters,
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


async def fetch_sink(request: Request) -> Response:
    account = account_sid(request)
    with request.app.state.db.connect() as conn:
        row = require_sink(conn, account, request.path_params["sid"])
    return JSON(sink_resource(row, base_url(request)))


async def update_sink(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    sid = request.path_params["sid"]
    text = description(params)
    with write(request.app.state.db) as conn:
        require_sink(conn, account, sid)
        store.update_sink(conn, account, sid, {"description": text, "date_updated": utcnow()})
        row = store.get_sink(conn, account, sid)
    return JSON(sink_resource(row, base_url(request)))


async def delete_sink(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["sid"]
    with write(request.app.state.db) as conn:
        require_sink(conn, account, sid)
        store.delete_sink(conn, account, sid)
    return no_content()


async def test_sink(request: Request) -> Response:
    """Send a test event to the sink (through the outbox, signed like any other); the sink
    is ``validating`` until ``Validate`` gets that event's id."""
    account = account_sid(request)
    sid = request.path_params["sid"]
    event = events.test_event(sid, account)
    with write(request.app.state.db) as conn:
        sink = require_sink(conn, account, sid)
        routes = {events.TEST: (sid,)}
        store.insert_events(conn, events.outbox_rows(routes, account, None, [event]))
        status = "active" if sink.status == "active" else "validating"
        values = {"test_id": event["id"], "status": status, "date_updated": utcnow()}
        store.update_sink(conn, account, sid, values)
    return JSON({"result": "submitted"}, 201)


async def validate_sink(request: Request) -> Response:
    """``TestId``: the id of the test event the sink received; it makes the sink active."""
    account = account_sid(request)
    params = await form(request)
    sid = request.path_params["sid"]
    test_id = params.require("TestId")
    with write(request.app.state.db) as conn:
        sink = require_sink(conn, account, sid)
        if not test_id or sink.test_id is None or test_id != sink.test_id:
            raise invalid_parameter("TestId", "is not the id of this sink's last test event")
        values = {"status": "active", "test_id": None, "date_updated": utcnow()}
        store.update_sink(conn, account, sid, values)
    return JSON({"result": "valid"}, 201)


# -- event types ------------------------------------------------------------------------------


def type_resource(kind: events.EventType, base: str) -> dict[str, Any]:
    return {
        "type": kind.type,
        "schema_id": kind.schema_id,
        "date_created": _TYPES_CHANGED,
        "date_updated": _TYPES_CHANGED,
        "description": kind.description,
        "status": "available",
        "documentation_url": "https://www.twilio.com/docs/events/event-types",
        "url": f"{base}/v1/Types/{quote(kind.type)}",
        "links": {"schema": f"{base}/v1/Schemas/{kind.schema_id}/Versions"},
    }


def list_slice(items: list[Any], window: Window) -> Slice:
    """A window over a short list held in memory; keys are positions from 1."""
    keyed = list(enumerate(items, 1))
    if window.after is not None:
        keyed = [k for k in keyed if k[0] > window.after]
    if window.before is not None:
        keyed = [k for k in keyed if k[0] < window.before][-window.size :]
        return Slice(keyed, False, True) if keyed else Slice([], False, True)
    keyed = keyed[window.offset :]
    return Slice(keyed[: window.size], len(keyed) > window.size, False)


async def list_types(request: Request) -> Response:
    account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    schema = params.get("SchemaId")
    kinds = [t for t in events.TYPES.values() if not schema or t.schema_id == schema]
    result = list_slice(kinds, window)
    base = base_url(request)
    return JSON(
        envelope(
            "types",
            [type_resource(t, base) for _, t in result.rows],
            base=base,
            path="/v1/Types",
            filters=[("SchemaId", schema)] if schema else [],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row[0],
        )
    )


async def fetch_type(request: Request) -> Response:
    account_sid(request)
    kind = events.TYPES.get(request.path_params["type"])
    if kind is None:
        raise not_found(f"/Types/{request.path_params['type']}")
    return JSON(type_resource(kind, base_url(request)))


routes = [
    Route("/v1/Sinks", create_sink, methods=["POST"]),
    Route("/v1/Sinks", list_sinks, methods=["GET"]),
    Route("/v1/Sinks/{sid}", fetch_sink, methods=["GET"]),
    Route("/v1/Sinks/{sid}", update_sink, methods=["POST"]),
    Route("/v1/Sinks/{sid}", delete_sink, methods=["DELETE"]),
    Route("/v1/Sinks/{sid}/Test", test_sink, methods=["POST"]),
    Route("/v1/Sinks/{sid}/Validate", validate_sink, methods=["POST"]),
    Route("/v1/Types", list_types, methods=["GET"]),
    Route("/v1/Types/{type}", fetch_type, methods=["GET"]),
]
