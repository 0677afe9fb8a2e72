"""The console's Messages and Calls pages: the local platform's outbox of the signed-in
account, newest first, filtered by number, each item linked to the execution behind it.

Read-only views over ``flowyard.store.outbox`` and ``flowyard.store.calls``, the same rows the
2010-04-01 Messages and Calls resources serve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from flowyard.api.responses import JSON, twilio_date
from flowyard.console import pages, queries, session
from flowyard.console.api_flows import after_key
from flowyard.errors import invalid_parameter
from flowyard.store import calls as call_store
from flowyard.store import outbox
from flowyard.store.paging import Window

PAGE = 50
MAX_NUMBER = 255  # the stored columns' width

_FILTERS = """
<form id="filters" class="inline filters" role="search">
<label>To <input type="search" name="to" maxlength="255" autocomplete="off"
spellcheck="false" placeholder="+1555… or client:…"></label>
<label>From <input type="search" name="from" maxlength="255" autocomplete="off"
spellcheck="false" placeholder="+1555…"></label>
<button type="submit">Filter</button></form>
"""


def _list_body(title: str, intro: str, table: str, columns: tuple[str, ...]) -> str:
    heads = "".join(f'<th scope="col">{name}</th>' for name in columns)
    return (
        f'<div class="page-head"><h1>{title}</h1></div><p class="muted">{intro}</p>{_FILTERS}'
        f'<div class="table-wrap"><table id="{table}" class="list">'
        f'<caption class="sr">{title}</caption><thead><tr>{heads}</tr></thead>'
        f'<tbody><tr><td colspan="{len(columns)}" class="muted">Loading…</td></tr></tbody>'
        '</table></div><button id="more" hidden>Load more</button>'
    )


MESSAGES_BODY = _list_body(
    "Messages",
    "What this account's flows sent on the local platform, and the messages contacts sent to "
    "them, newest first. The same list as <code>client.messages.list()</code>.",
    "messages",
    ("Date", "Direction", "From", "To", "Body", "Status", "Execution"),
)

CALLS_BODY = _list_body(
    "Calls",
    "The calls this account's flows answered or placed on the local platform, newest first. "
    "The same list as <code>client.calls.list()</code>.",
    "calls",
    ("Date", "Direction", "From", "To", "Status", "Duration", "Execution"),
)


def _page(title: str, body: str, script: str, current: str) -> Callable[..., Any]:
    async def page(request: Request) -> Response:
        sess = session.read(request)
        if sess is None:
            return RedirectResponse(f"/console/login?next=/console/{current}", 303)
        return pages.render(title, body, sess=sess, script=script, current=current)

    return page


def _number(request: Request, name: str) -> str | None:
    value = (request.query_params.get(name) or "").strip()
    if len(value) > MAX_NUMBER:
        raise invalid_parameter(name, f"must be at most {MAX_NUMBER} characters")
    return value or None


def _listing(
    request: Request, read: Callable[..., Any], item: Callable[[Any], dict[str, Any]], key: str
) -> Response:
    sess = session.require(request)
    to, from_ = _number(request, "to"), _number(request, "from")
    window = Window(size=PAGE, after=after_key(request))
    with request.app.state.db.connect() as conn:
        result = read(conn, sess.account_sid, window, to=to, from_=from_)
        flows = queries.flows_of_executions(
            conn, sess.account_sid, (row.execution_sid for row in result.rows)
        )
    items = []
    for row in result.rows:
        data = item(row)
        data["execution_sid"] = row.execution_sid
        # Linked only while the execution exists in this account (deletion drops the link).
        data["flow_sid"] = flows.get(row.execution_sid or "")
        items.append(data)
    next_after = result.rows[-1].id if result.has_more and result.rows else None
    return JSON({key: items, "next": next_after})


def _common(row: Any) -> dict[str, Any]:
    return {
        "sid": row.sid,
        "direction": row.direction,
        "from": row.from_,
        "to": row.to,
        "status": row.status,
        "date_created": twilio_date(row.date_created),
    }


def _message(row: Any) -> dict[str, Any]:
    return {**_common(row), "body": row.body, "error_code": row.error_code}


def _call(row: Any) -> dict[str, Any]:
    return {**_common(row), "duration": row.duration}


async def list_messages(request: Request) -> Response:
    return _listing(request, outbox.list_messages, _message, "messages")


async def list_calls(request: Request) -> Response:
    return _listing(request, call_store.list_calls, _call, "calls")


routes = [
    Route("/console/messages", _page("Messages", MESSAGES_BODY, "messages.js", "messages")),
    Route("/console/calls", _page("Calls", CALLS_BODY, "calls.js", "calls")),
    Route("/console/api/messages", list_messages, methods=["GET"]),
    Route("/console/api/calls", list_calls, methods=["GET"]),
]
