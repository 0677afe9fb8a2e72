"""Events API v1 Subscriptions and their SubscribedEvents: which event types go to which
sink. A change reaches every process's runtime within a second (``service.events.TTL``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api import checks
from flowyard.api.auth import account_sid
from flowyard.api.events import description
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import Params, base_url, form, query
from flowyard.api.responses import JSON, no_content, twilio_date
from flowyard.errors import invalid_parameter, missing_parameter, not_found
from flowyard.service import events
from flowyard.sids import is_sid, new_sid
from flowyard.store import events as store
from flowyard.store import write
from flowyard.store.clock import utcnow

MAX_TYPES = 100


def subscription_resource(row: Any, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Subscriptions/{row.sid}"
    return {
        "account_sid": row.account_sid,
        "sid": row.sid,
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
        "description": row.description,
        "sink_sid": row.sink_sid,
        "url": url,
        "links": {"subscribed_events": f"{url}/SubscribedEvents"},
    }


def subscribed_resource(row: Any, base: str) -> dict[str, Any]:
    return {
        "account_sid": row.account_sid,
        "type": row.type,
        "schema_version": row.schema_version,
        "subscription_sid": row.subscription_sid,
        "url": f"{base}/v1/Subscriptions/{row.subscription_sid}/SubscribedEvents/"
        + quote(row.type),
    }


def _event_type(name: str, value: str) -> str:
    if value not in events.TYPES:
        raise invalid_parameter(name, f"{value[:128]!r} is not an event type Flowyard emits")
    return value


def _version(name: str, raw: Any, kind: str) -> int:
    if raw is None or raw == "":
        return events.TYPES[kind].version
    try:
        version = int(raw)
    except (TypeError, ValueError):
        raise invalid_parameter(name, "must be an integer") from None
    latest = events.TYPES[kind].version
    if not 1 <= version <= latest:
        raise invalid_parameter(name, f"{kind} has schema versions 1 to {latest}")
    return version


def _types(params: Params) -> list[tuple[str, int]]:
    """``Types``: each a JSON object ``{"type": …, "schema_version": …}`` (the SDK sends one
    parameter per object)."""
    raw = params.getlist("Types")
    if not raw:
        raise missing_parameter("Types")
    if len(raw) > MAX_TYPES:
        raise invalid_parameter("Types", f"at most {MAX_TYPES} types")
    found: dict[str, int] = {}
    for item in raw:
        try:
            value = orjson.loads(item)
        except orjson.JSONDecodeError:
            value = {"type": item}  # a bare type name
        if isinstance(value, str):
            value = {"type": value}
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise invalid_parameter("Types", 'each must be {"type": …, "schema_version": …}')
        kind = _event_type("Types", value["type"])
        found[kind] = _version("Types", value.get("schema_version"), kind)
    return list(found.items())


def require_subscription(conn: Any, account: str, sid: str) -> Any:
    row = store.get_subscription(conn, account, sid) if is_sid(sid, "DF") else None
    if row is None:
        raise not_found(f"/Subscriptions/{sid}")
    return row


async def create_subscription(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    text = description(params)
    sink_sid = checks.sid("SinkSid", params.require("SinkSid"))
    types = _types(params)
    now = utcnow()
    row = {
        "sid": new_sid("DF"),
        "account_sid": account,
        "sink_sid": sink_sid,
        "description": text,
        "date_created": now,
        "date_updated": now,
    }
    with write(request.app.state.db) as conn:
        if store.get_sink(conn, account, sink_sid or "") is None:
            raise invalid_parameter("SinkSid", "no such sink in this account")
        saved = store.insert_subscription(conn, row, types)
    return JSON(subscription_resource(saved, base_url(request)), 201)


async def list_subscriptions(request: Request) -> Response:
    account = account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    sink_sid = checks.sid("SinkSid", params.get("SinkSid") or None)
    with request.app.state.db.connect() as conn:
        result = store.list_subscriptions(conn, account, window, sink_sid=sink_sid)
    base = base_url(request)
    return JSON(
        envelope(
            "subscriptions",
            [subscription_resource(r, base) for r in result.rows],
            base=base,
            path="/v1/Subscriptions",
            filters=[("SinkSid", sink_sid)] if sink_sid else [],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


async def fetch_subscription(request: Request) -> Response:
    account = account_sid(request)
    with request.app.state.db.connect() as conn:
        row = require_subscription(conn, account, request.path_params["sid"])
    return JSON(subscription_resource(row, base_url(request)))


async def update_subscription(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    sid = request.path_params["sid"]
    values: dict[str, Any] = {"date_updated": utcnow()}
    if "Description" in params:
        values["description"] = description(params)
    with write(request.app.state.db) as conn:
        require_subscription(conn, account, sid)
        store.update_subscription(conn, account, sid, values)
        row = store.get_subscription(conn, account, sid)
    return JSON(subscription_resource(row, base_url(request)))


async def delete_subscription(request: Request) -> Response:
    account = account_sid(request)
    with write(request.app.state.db) as conn:
        require_subscription(conn, account, request.path_params["sid"])
        store.delete_subscription(conn, account, request.path_params["sid"])
    return no_content()


# -- SubscribedEvents ---------------------------------------------------------------------------


async def list_subscribed(request: Request) -> Response:
    account = account_sid(request)
    params = query(request)
    window, size, page = window_from(params)
    sid = request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        require_subscription(conn, account, sid)
        result = store.list_types(conn, sid, window)
    base = base_url(request)
    return JSON(
        envelope(
            "types",
            [subscribed_resource(r, base) for r in result.rows],
            base=base,
            path=f"/v1/Subscriptions/{sid}/SubscribedEvents",
            filters=[],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


async def add_subscribed(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    sid = request.path_params["sid"]
    kind = _event_type("Type", params.require("Type"))
    version = _version("SchemaVersion", params.get("SchemaVersion"), kind)
    with write(request.app.state.db) as conn:
        require_subscription(conn, account, sid)
        store.set_type(conn, account, sid, kind, version)
        row = store.get_type(conn, sid, kind)
    return JSON(subscribed_resource(row, base_url(request)), 201)


def _require_type(conn: Any, sid: str, kind: str) -> Any:
    row = store.get_type(conn, sid, kind)
    if row is None:
        raise not_found(f"/Subscriptions/{sid}/SubscribedEvents/{kind}")
    return row


async def fetch_subscribed(request: Request) -> Response:
    account = account_sid(request)
    sid, kind = request.path_params["sid"], request.path_params["type"]
    with request.app.state.db.connect() as conn:
        require_subscription(conn, account, sid)
        row = _require_type(conn, sid, kind)
    return JSON(subscribed_resource(row, base_url(request)))


async def update_subscribed(request: Request) -> Response:
    account = account_sid(request)
    params = await form(request)
    sid, kind = request.path_params["sid"], request.path_params["type"]
    with write(request.app.state.db) as conn:
        require_subscription(conn, account, sid)
        _require_type(conn, sid, kind)
        version = _version("SchemaVersion", params.get("SchemaVersion"), kind)
        store.set_type(conn, account, sid, kind, version)
        row = store.get_type(conn, sid, kind)
    return JSON(subscribed_resource(row, base_url(request)))


async def delete_subscribed(request: Request) -> Response:
    account = account_sid(request)
    sid, kind = request.path_params["sid"], request.path_params["type"]
    with write(request.app.state.db) as conn:
        require_subscription(conn, account, sid)
        if not store.delete_type(conn, sid, kind):
            raise not_found(f"/Subscriptions/{sid}/SubscribedEvents/{kind}")
    return no_content()


_EVENTS = "/v1/Subscriptions/{sid}/SubscribedEvents"
routes = [
    Route("/v1/Subscriptions", create_subscription, methods=["POST"]),
    Route("/v1/Subscriptions", list_subscriptions, methods=["GET"]),
    Route("/v1/Subscriptions/{sid}", fetch_subscription, methods=["GET"]),
    Route("/v1/Subscriptions/{sid}", update_subscription, methods=["POST"]),
    Route("/v1/Subscriptions/{sid}", delete_subscription, methods=["DELETE"]),
    Route(_EVENTS, list_subscribed, methods=["GET"]),
    Route(_EVENTS, add_subscribed, methods=["POST"]),
    Route(_EVENTS + "/{type}", fetch_subscribed, methods=["GET"]),
    Route(_EVENTS + "/{type}", update_subscribed, methods=["POST"]),
    Route(_EVENTS + "/{type}", delete_subscribed, methods=["DELETE"]),
]
