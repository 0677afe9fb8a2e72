"""One ``flowyard.access`` line per HTTP request: client, method, path, status, duration, account.

Only what identifies the request: the path without its query string (a webhook's or a list's
query can hold phone numbers), never headers, credentials or bodies. The account is the one
the credentials were accepted for, else the ``AC`` SID of the Basic username, else an ``AC``
SID in the path (the flow webhook, ``/2010-04-01/Accounts/AC…``), else ``-``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from time import perf_counter, time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowyard.api.timing import Timings
from flowyard.logs import FLUSH_SECONDS, direct_handler, printable

log = logging.getLogger("flowyard.access")

_SID = re.compile(r"AC[0-9a-f]{32}")
_SID_IN_PATH = re.compile(r"/(AC[0-9a-f]{32})(?=[/.]|$)")
_MAX_AUTHORIZATION = 512  # as flowyard.api.auth: longer is no credential of ours


class AccessLog:
    """Log each HTTP request once its response is done (a 500 for an error that escapes), and
    time it for the metrics (``timings``): one wrapper per request does both, or either
    (``lines=False``: metrics on, access log off).

    Under ``flowyard serve`` (its ``LineHandler``) a request only notes its figures; the lines
    are formatted and written together, ``FLUSH_SECONDS`` after the first, and at shutdown:
    formatting in one loop costs a fraction of formatting on each request's own path."""

    def __init__(self, app: ASGIApp, timings: Timings | None = None, lines: bool = True) -> None:
        self.app = app
        self.timings = timings  # metrics on: the request's duration goes to them too
        self.lines = lines
        self._pending: list[_Noted] = []
        self._direct: tuple[Any] | None = None  # (the LineHandler or None,), once looked up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._draining(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        noting = self.lines and log.isEnabledFor(logging.INFO)
        started = perf_counter()
        status = 0

        async def status_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, status_send)
        finally:
            # No response started: uvicorn (or Starlette's outer handler) answers 500.
            seconds = perf_counter() - started
            if self.timings is not None:
                self.timings.observe(scope["path"], status or 500, seconds)
            if noting:
                self._note(scope, status or 500, seconds * 1000)

    def _note(self, scope: Scope, status: int, ms: float) -> None:
        client = scope.get("client")
        noted = (
            time(),
            client[0] if client else "-",
            scope["method"],
            scope["path"],
            scope.get("http_version", "1.1"),
            status,
            ms,
            account_of(scope),
        )
        loop = asyncio.events._get_running_loop()
        if self._direct is None:
            # Walking the logger tree is most of a note's cost; logging is set up at start.
            self._direct = (direct_handler(log),)
        if loop is None or self._direct[0] is None:  # configured otherwise: a LogRecord now
            _log_records([noted])
            return
        if not self._pending:
            loop.call_later(FLUSH_SECONDS, self.drain)
        self._pending.append(noted)

    def drain(self) -> None:
        """Write the lines noted so far."""
        pending, self._pending = self._pending, []
        handler = direct_handler(log)
        if handler is None:
            _log_records(pending)
            return
        structured = handler.structured
        lines = []
        for noted in pending:
            message, fields = _parts(noted, structured)
            lines.append((noted[0], message, fields))
        handler.write_lines(log.name, lines)

    def _draining(self, send: Send) -> Send:
        async def send_after_drain(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown."):
                self.drain()
            await send(message)

        return send_after_drain


# When, client address, method, path, HTTP version, status, milliseconds, account SID or "-".
_Noted = tuple[float, str, str, str, str, int, float, str]


def _parts(noted: _Noted, structured: bool) -> tuple[str, dict[str, Any]]:
    """The line's message and, when the format shows them, its fields."""
    _, address, method, raw_path, version, status, ms, sid = noted
    path = printable(raw_path)
    message = f'{address} "{method} {path} HTTP/{version}" {status} {ms:.1f}ms {sid}'
    if not structured:
        return message, {}
    return message, {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(ms, 2),
        "account_sid": None if sid == "-" else sid,
        "client": address,
    }


def _log_records(pending: list[_Noted]) -> None:
    for noted in pending:
        message, fields = _parts(noted, True)
        log.info("%s", message, extra=fields)


def account_of(scope: Scope) -> str:
    """The account SID to log for a request, or ``-``."""
    state = scope.get("state")
    if state and state.get("account_sid"):  # set by flowyard.api.auth once accepted
        return state["account_sid"]
    for name, value in scope["headers"]:
        if name == b"authorization":
            sid = _basic_username(value)
            if sid:
                return sid
            break
    match = _SID_IN_PATH.search(scope["path"])
    return match.group(1) if match else "-"


def _basic_username(header: bytes) -> str | None:
    """The Basic username when it is an account SID; nothing else of the header is kept."""
    scheme, _, encoded = header.partition(b" ")
    if scheme.lower() != b"basic" or len(encoded) > _MAX_AUTHORIZATION:
        return None
    try:
        username = base64.b64decode(encoded, validate=True).partition(b":")[0]
    except (binascii.Error, ValueError):
        return None
    text = username.decode("latin-1")
    return text if _SID.fullmatch(text) else None
