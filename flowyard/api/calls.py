"""Twilio's 2010-04-01 Calls resource over the calls Flowyard answered or placed.

With ``client.api.base_url`` pointed at Flowyard, ``client.calls.list()`` shows the calls
flows answered, and the simulated calls Make Outgoing Call placed on the local platform
(``url`` is where a simulator answers them).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.paging import window_from
from flowyard.api.requests import query
from flowyard.api.responses import JSON
from flowyard.errors import not_found
from flowyard.platform.calls import call_resource
from flowyard.store import calls as call_store

_FILTERS = (("To", "to"), ("From", "from_"), ("Status", "status"))


def _account(request: Request) -> str:
    account = account_sid(request)
    if request.path_params["account"] != account:
        raise not_found(request.url.path.removeprefix("/2010-04-01"))
    return account


async def list_calls(request: Request) -> Response:
    account = _account(request)
    params = query(request)
    window, size, page = window_from(params)
    filters = [(k, v) for k, _ in _FILTERS if (v := params.get(k))]
    with request.app.state.db.connect() as conn:
        result = call_store.list_calls(
            conn, account, window, **{arg: params.get(k) for k, arg in _FILTERS}
        )
    path = f"/2010-04-01/Accounts/{account}/Calls.json"

    def uri(page_number: int, token: str | None) -> str:
        items: list[tuple[str, Any]] = [*filters, ("PageSize", size), ("Page", page_number)]
        if token:
            items.append(("PageToken", token))
        return f"{path}?{urlencode(items)}"

    rows = result.rows
    has_next = (result.reversed or result.has_more) and rows
    has_previous = rows and (result.has_more if result.reversed else page > 0)
    return JSON(
        {
            "calls": [call_resource(row) for row in rows],
            "start": page * size,
            "end": page * size + max(len(rows) - 1, 0),
            "page": page,
            "page_size": size,
            "uri": uri(page, params.get("PageToken")),
            "first_page_uri": uri(0, None),
            "next_page_uri": uri(page + 1, f"PA{rows[-1].id}") if has_next else None,
            "previous_page_uri": uri(max(page - 1, 0), f"PB{rows[0].id}") if has_previous else None,
        }
    )


async def fetch_call(request: Request) -> Response:
    account = _account(request)
    sid = request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        row = call_store.get_account_call(conn, account, sid)
    if row is None:
        raise not_found(f"/Accounts/{account}/Calls/{sid}.json")
    return JSON(call_resource(row))


routes = [
    Route("/2010-04-01/Accounts/{account}/Calls.json", list_calls, methods=["GET"]),
    Route("/2010-04-01/Accounts/{account}/Calls/{sid}.json", fetch_call, methods=["GET"]),
]
