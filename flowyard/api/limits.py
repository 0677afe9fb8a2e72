"""A request-body size limit enforced before any handler reads the body."""

from __future__ import annotations

import asyncio

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowyard.errors import too_large

# An over-limit body is read and thrown away before the 413, as nginx's lingering close does:
# a client still sending when the server closes sees a broken pipe, not the answer. Beyond
# these bounds the 413 goes out at once and the connection is closed.
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 10.0


class BodyLimit:
    """Answer 413 when ``Content-Length`` or the streamed body exceeds ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send, int(value))
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge(more=message.get("more_body", False))
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge as exc:
            await self._refuse(scope, receive, send, received if exc.more else 0)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, pending: int) -> None:
        """The 413, once the body is drained; ``pending`` is how much of it may be unread."""
        keep_open = pending == 0 or await _drain(scope, receive, pending)
        error = too_large(self.limit)
        body = orjson.dumps(error.body())
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if not keep_open:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drain(scope: Scope, receive: Receive, declared: int) -> bool:
    """Read and drop the rest of the body; False when it is too big or slow to wait for."""
    for name, value in scope["headers"]:
        # A client that asked whether to send the body is told no before it sends it.
        if name == b"expect" and value.lower() == b"100-continue":
            return False
    if declared > DRAIN_BYTES:
        return False
    drained = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while drained <= DRAIN_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    return False  # the client went away
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return True
    except TimeoutError:
        pass
    return False


class _TooLarge(Exception):
    def __init__(self, *, more: bool) -> None:
        super().__init__()
        self.more = more
