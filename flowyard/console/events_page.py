"""The console's Event Streams page: the account's sinks with their delivery status, and its
subscriptions with their event types. Read-only: sinks are managed through the Events API."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from flowyard.api.responses import JSON, twilio_date
from flowyard.console import pages, session
from flowyard.store import events as store
from flowyard.store.paging import Window

SHOWN = 200  # sinks and subscriptions listed (an account has a handful)

BODY = """
<div class="page-head"><h1>Event Streams</h1></div>
<p class="muted">Webhook sinks receive this account's Studio and Debugger events as signed
CloudEvents, at least once, in order per execution. Manage them with the Events API
(<code>client.events.v1.sinks</code>, <code>subscriptions</code>).</p>
<section aria-labelledby="sinks-h"><h2 id="sinks-h">Sinks</h2>
<div class="table-wrap"><table id="sinks" class="list"><thead><tr>
<th scope="col">Sink</th><th scope="col">Status</th><th scope="col">Destination</th>
<th scope="col">Last delivery</th><th scope="col">Failures in a row</th>
<th scope="col">Waiting</th><th scope="col">Last error</th></tr></thead>
<tbody><tr><td colspan="7" class="muted">Loading…</td></tr></tbody></table></div></section>
<section aria-labelledby="subs-h"><h2 id="subs-h">Subscriptions</h2>
<div class="table-wrap"><table id="subscriptions" class="list"><thead><tr>
<th scope="col">Subscription</th><th scope="col">Sink</th><th scope="col">Event types</th>
<th scope="col">Created</th></tr></thead>
<tbody><tr><td colspan="4" class="muted">Loading…</td></tr></tbody></table></div></section>
"""


async def page(request: Request) -> Response:
    sess = session.read(request)
    if sess is None:
        return RedirectResponse("/console/login?next=/console/event-streams", 303)
    return pages.render(
        "Event Streams", BODY, sess=sess, script="events.js", current="event-streams"
    )


def _sink(row: Any, backlog: dict[str, tuple[int, Any]]) -> dict[str, Any]:
    config = orjson.loads(row.configuration)
    waiting, oldest = backlog.get(row.sid, (0, None))
    return {
        "sid": row.sid,
        "description": row.description,
        "status": row.status,
        "destination": config.get("destination"),
        "batch_events": bool(config.get("batch_events")),
        "last_delivery": twilio_date(row.last_delivery),
        "failures": row.failures,
        "last_error": row.last_error,
        "retry_at": twilio_date(row.retry_at),
        "waiting": waiting,
        "oldest_waiting": twilio_date(oldest),
    }


async def status(request: Request) -> Response:
    """The account's sinks (with what waits for each) and subscriptions (with their types)."""
    sess = session.require(request)
    account = sess.account_sid
    with request.app.state.db.connect() as conn:
        sinks = store.list_sinks(conn, account, Window(SHOWN)).rows
        backlog = store.backlog(conn, [s.sid for s in sinks])
        subs = store.list_subscriptions(conn, account, Window(SHOWN)).rows
        types = store.types_of(conn, [s.sid for s in subs])
    return JSON(
        {
            "sinks": [_sink(row, backlog) for row in sinks],
            "subscriptions": [
                {
                    "sid": s.sid,
                    "description": s.description,
                    "sink_sid": s.sink_sid,
                    "types": types.get(s.sid, []),
                    "date_created": twilio_date(s.date_created),
                }
                for s in subs
            ],
        }
    )


routes = [
    Route("/console/event-streams", page, methods=["GET"]),
    Route("/console/api/event-streams", status, methods=["GET"]),
]
