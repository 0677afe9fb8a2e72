"""Twilio's 2010-04-01 Calls resource over the calls Flowyard answered or placed.

With ``client.api.base_url`` pointed at Flowyard, ``client.calls.list()`` shows the calls
flows answered, and the simulated calls Make Outgoing Call placed on the local platform
(``url`` is where a simulator answers them).
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
from flowyard.platform.calls import call_resource, recording_resource
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

    return JSON(
        legacy_envelope(
            "calls",
            [call_resource(row) for row in result.rows],
            path=path,
            filters=filters,
            params=params,
            size=size,
            page=page,
            result=result,
        )
    )


async def fetch_call(request: Request) -> Response:
    account = _account(request)
    sid = request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        row = call_store.get_account_call(conn, account, sid)
    if row is None:
        raise not_found(f"/Accounts/{account}/Calls/{sid}.json")
    return JSON(call_resource(row))


async def list_call_recordings(request: Request) -> Response:
    """A call's recordings (record-call starts and stops them); one page: calls have few."""
    account = _account(request)
    sid = request.path_params["sid"]
    with request.app.state.db.connect() as conn:
        if call_store.get_account_call(conn, account, sid) is None:
            raise not_found(f"/Accounts/{account}/Calls/{sid}/Recordings.json")
        rows = call_store.list_recordings(conn, sid)
    uri = f"/2010-04-01/Accounts/{account}/Calls/{sid}/Recordings.json"
    size = max(len(rows), 50)
    return JSON(
        {
            "recordings": [recording_resource(row) for row in rows],
            "start": 0,
            "end": max(len(rows) - 1, 0),
            "page": 0,
            "page_size": size,
            "uri": f"{uri}?PageSize={size}&Page=0",
            "first_page_uri": f"{uri}?PageSize={size}&Page=0",
            "next_page_uri": None,
            "previous_page_uri": None,
        }
    )


routes = [
    Route("/2010-04-01/Accounts/{account}/Calls.json", list_calls, methods=["GET"]),
    Route("/2010-04-01/Accounts/{account}/Calls/{sid}.json", fetch_call, methods=["GET"]),
    Route(
        "/2010-04-01/Accounts/{account}/Calls/{sid}/Recordings.json",
        list_call_recordings,
        methods=["GET"],
    ),
]
