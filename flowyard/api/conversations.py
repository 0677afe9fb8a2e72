"""Conversations v1 Messages: what contacts said in a conversation and what flows posted to it.

With ``client.conversations.base_url`` pointed at Flowyard,
``client.conversations.v1.conversations(CH).messages.list()`` reads a conversation the local
platform recorded (on the ``twilio`` platform: the flows' posts and the messages the flow
webhook received). Only the default-service paths (no ``/Services/IS...``) are served.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, query
from flowyard.api.responses import JSON
from flowyard.errors import invalid_parameter, not_found
from flowyard.platform.resources import conversation_message_resource
from flowyard.store import conversations as store


async def list_messages(request: Request) -> Response:
    account = account_sid(request)
    conversation_sid = request.path_params["conversation"]
    params = query(request)
    window, size, page = window_from(params)
    order = params.get("Order") or "asc"
    if order not in ("asc", "desc"):
        raise invalid_parameter("Order", "must be asc or desc")
    with request.app.state.db.connect() as conn:
        result = store.list_messages(
            conn, account, conversation_sid, window, descending=order == "desc"
        )
    base = base_url(request)
    return JSON(
        envelope(
            "messages",
            [conversation_message_resource(row, base) for row in result.rows],
            base=base,
            path=f"/v1/Conversations/{conversation_sid}/Messages",
            filters=[("Order", order)] if params.get("Order") else [],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


async def fetch_message(request: Request) -> Response:
    account = account_sid(request)
    conversation_sid, sid = request.path_params["conversation"], request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        row = store.get_message(conn, account, conversation_sid, sid)
    if row is None:
        raise not_found(f"/Conversations/{conversation_sid}/Messages/{sid}")
    return JSON(conversation_message_resource(row, base_url(request)))


routes = [
    Route("/v1/Conversations/{conversation}/Messages", list_messages, methods=["GET"]),
    Route("/v1/Conversations/{conversation}/Messages/{sid}", fetch_message, methods=["GET"]),
]
