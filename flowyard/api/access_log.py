"""One ``flowyard.access`` line per HTTP request: client, method, path, status, duration, account.

Only what identifies the request: the path without its query string (a webhook's or a list's
query can hold phone numbers), never headers, credentials or bodies. The account is the one
the credentials were accepted for, else the ``AC`` SID of the Basic username, else an ``AC``
SID in the path (the flow webhook, ``/2010-04-01/Accounts/AC…``), else ``-``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowyard.logs import direct_handler, printable

log = logging.getLogger("flowyard.access")

_SID = re.compile(r"AC[0-9a-f]{32}")
_SID_IN_PATH = re.compile(r"/(AC[0-9a-f]{32})(?=[/.]|$)")
_MAX_AUTHORIZATION = 512  # as flowyard.api.auth: longer is no credential of ours


class AccessLog:
    """Log each HTTP request once its response is done (a 500 for an error that escapes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
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
            _emit(scope, status or 500, (perf_counter() - started) * 1000)


def _emit(scope: Scope, status: int, ms: float) -> None:
    client = scope.get("client")
    address = client[0] if client else "-"
    method = scope["method"]
    path = printable(scope["path"])
    sid = account_of(scope)
    version = scope.get("http_version", "1.1")
    message = f'{address} "{method} {path} HTTP/{version}" {status} {ms:.1f}ms {sid}'
    handler = direct_handler(log)
    if handler is not None and not handler.structured:  # text: the fields are in the message
        handler.write_line(log.name, message, {})
        return
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(ms, 2),
        "account_sid": None if sid == "-" else sid,
        "client": address,
    }
    if handler is not None:  # flowyard serve's own handler: the same line, no LogRecord
        handler.write_line(log.name, message, fields)
    else:
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
