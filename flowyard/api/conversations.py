"""Conversations v1 as the local record holds it: conversations, their participants and their
messages (what contacts said and what flows posted).

With ``client.conversations.base_url`` pointed at Flowyard,
``client.conversations.v1.conversations(CH).messages.list()`` reads a conversation the local
platform recorded (on the ``twilio`` platform: the flows' posts, the messages the flow
webhook received, the conversations Start/Resume Conversation attached). The same resources
are served service-scoped (``/v1/Services/{IS…}/Conversations/…``, with ``chat_service_sid``)
for a conversation known to be in that service. Each account sees only its own.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, query
from flowyard.api.responses import JSON
from flowyard.errors import invalid_parameter, not_found
from flowyard.platform.resources import (
    conversation_message_resource,
    conversation_resource,
    participant_resource,
)
from flowyard.store import conversations as store


def _scope(request: Request, conn: Any, account: str) -> tuple[str, str | None]:
    """The path prefix the request used and its service, after checking the conversation is
    in that service (a service-scoped path names a conversation the record places there)."""
    conversation_sid = request.path_params["conversation"]
    service = request.path_params.get("service")
    if service is None:
        return "/v1", None
    found = store.get_conversation(conn, account, conversation_sid)
    if found is None or found.chat_service_sid != service:
        raise not_found(f"/Services/{service}/Conversations/{conversation_sid}")
    return f"/v1/Services/{service}", service


def _scoped_message(row: Any, base: str, service: str | None) -> dict[str, Any]:
    resource = conversation_message_resource(row, base)
    if service is not None:
        resource["chat_service_sid"] = service
        resource["url"] = resource["url"].replace(f"{base}/v1/", f"{base}/v1/Services/{service}/")
        resource["links"] = {
            key: link.replace(f"{base}/v1/", f"{base}/v1/Services/{service}/")
            for key, link in resource["links"].items()
        }
    return resource


async def fetch_conversation(request: Request) -> Response:
    account = account_sid(request)
    sid = request.path_params["conversation"]
    with request.app.state.db.connect() as conn:
        _, service = _scope(request, conn, account)
        row = store.get_conversation(conn, account, sid)
    if row is None:
        raise not_found(f"/Conversations/{sid}")
    return JSON(conversation_resource(row, base_url(request), scoped=service is not None))


async def list_messages(request: Request) -> Response:
    account = account_sid(request)
    conversation_sid = request.path_params["conversation"]
    params = query(request)
    window, size, page = window_from(params)
    order = params.get("Order") or "asc"
    if order not in ("asc", "desc"):
        raise invalid_parameter("Order", "must be asc or desc")
    with request.app.state.db.connect() as conn:
        prefix, service = _scope(request, conn, account)
        result = store.list_messages(
            conn, account, conversation_sid, window, descending=order == "desc"
        )
    base = base_url(request)
    return JSON(
        envelope(
            "messages",
            [_scoped_message(row, base, service) for row in result.rows],
            base=base,
            path=f"{prefix}/Conversations/{conversation_sid}/Messages",
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
        _, service = _scope(request, conn, account)
        row = store.get_message(conn, account, conversation_sid, sid)
    if row is None:
        raise not_found(f"/Conversations/{conversation_sid}/Messages/{sid}")
    return JSON(_scoped_message(row, base_url(request), service))


async def list_participants(request: Request) -> Response:
    account = account_sid(request)
    conversation_sid = request.path_params["conversation"]
    params = query(request)
    window, size, page = window_from(params)
    with request.app.state.db.connect() as conn:
        prefix, service = _scope(request, conn, account)
        result = store.list_participants(conn, account, conversation_sid, window)
    base = base_url(request)
    return JSON(
        envelope(
            "participants",
            [participant_resource(row, base, chat_service_sid=service) for row in result.rows],
            base=base,
            path=f"{prefix}/Conversations/{conversation_sid}/Participants",
            filters=[],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row.id,
        )
    )


async def fetch_participant(request: Request) -> Response:
    account = account_sid(request)
    conversation_sid, sid = request.path_params["conversation"], request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        _, service = _scope(request, conn, account)
        row = next(
            (p for p in store.participants(conn, account, conversation_sid) if p.sid == sid), None
        )
    if row is None:
        raise not_found(f"/Conversations/{conversation_sid}/Participants/{sid}")
    return JSON(participant_resource(row, base_url(request), chat_service_sid=service))


def _routes(prefix: str) -> list[Route]:
    base = f"{prefix}/Conversations/{{conversation}}"
    return [
        Route(base, fetch_conversation, methods=["GET"]),
        Route(f"{base}/Messages", list_messages, methods=["GET"]),
        Route(f"{base}/Messages/{{sid}}", fetch_message, methods=["GET"]),
        Route(f"{base}/Participants", list_participants, methods=["GET"]),
        Route(f"{base}/Participants/{{sid}}", fetch_participant, methods=["GET"]),
    ]


routes = _routes("/v1") + _routes("/v1/Services/{service}")
