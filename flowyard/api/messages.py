"""Twilio's 2010-04-01 Messages resource over the local outbox.

With ``client.api.base_url`` pointed at Flowyard, ``client.messages.list()`` reads what flows
sent (and what contacts sent to them) on the local platform.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.paging import legacy_envelope, window_from
from flowyard.api.requests import query
from flowyard.api.responses import JSON
from flowyard.errors import not_found
from flowyard.platform.resources import message_resource
from flowyard.store import outbox


def _account(request: Request) -> str:
    account = account_sid(request)
    if request.path_params["account"] != account:
        raise not_found(request.url.path.removeprefix("/2010-04-01"))
    return account


async def list_messages(request: Request) -> Response:
    account = _account(request)
    params = query(request)
    window, size, page = window_from(params)
    filters = [(k, v) for k in ("To", "From") if (v := params.get(k))]
    with request.app.state.db.connect() as conn:
        result = outbox.list_messages(
            conn, account, window, to=params.get("To"), from_=params.get("From")
        )
    path = f"/2010-04-01/Accounts/{account}/Messages.json"

    return JSON(
        legacy_envelope(
            "messages",
            [message_resource(row) for row in result.rows],
            path=path,
            filters=filters,
            params=params,
            size=size,
            page=page,
            result=result,
        )
    )


async def fetch_message(request: Request) -> Response:
    account = _account(request)
    with request.app.state.db.connect() as conn:
        row = outbox.get_message(conn, account, request.path_params["sid"])
    if row is None:
        raise not_found(f"/Accounts/{account}/Messages/{request.path_params['sid']}.json")
    return JSON(message_resource(row))


routes = [
    Route("/2010-04-01/Accounts/{account}/Messages.json", list_messages, methods=["GET"]),
    Route("/2010-04-01/Accounts/{account}/Messages/{sid}.json", fetch_message, methods=["GET"]),
]
