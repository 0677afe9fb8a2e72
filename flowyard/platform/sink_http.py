"""HTTP/1.1 for Event Streams deliveries: one request, its status, over kept-alive connections,
held to the outbound policy.

Why not httpx, which every other outbound request uses: a delivery is a signed POST whose
answer only matters for its status, sent all day long, and httpx spent ~0.5 ms of CPU on each
(measured: 460-610 µs per 55 kB batch against a local keep-alive sink, 23 µs for the same
exchange on bare asyncio streams) — most of what Event Streams cost per execution. This client
does only what a sink needs: ``http``/``https``, Basic auth from the URL's user info, a
``Content-Length`` request body, responses framed by ``Content-Length``, chunked or
connection close (read and discarded, at most ``MAX_BODY``), no redirects, no proxies.

Every connection resolves its host here, checks each address with the ``OutboundPolicy``
(``FLOWYARD_HTTP_DENY``/``ALLOW``) and connects to a checked one, as the flows' client does.
Errors carry httpx's names (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``,
``RemoteProtocolError``) so logs and alert codes read the same.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from flowyard.platform.outbound import DestinationDenied, OutboundPolicy

MAX_BODY = 64 * 1024  # a sink's answer is read (to reuse the connection) up to this
MAX_IDLE = 8  # kept-alive connections per destination (IN_FLIGHT requests at once)
_SAFE = "!#$&'()*+,/:;=?@[]~%"  # kept as they are in a request target


class SinkError(Exception):
    pass


class ConnectError(SinkError):
    pass


class ConnectTimeout(SinkError):
    pass


class ReadTimeout(SinkError):
    pass


class RemoteProtocolError(SinkError):
    pass


@dataclass(frozen=True, slots=True)
class Target:
    """What a destination URL tells the client: where to connect, and the request's head."""

    secure: bool
    host: str
    port: int
    path: str  # the request target: path and query
    host_header: str
    authorization: str | None

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectError(f"not an http(s) URL: {url[:200]}")
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        path = quote(parts.path or "/", safe=_SAFE)
        if parts.query:
            path += "?" + quote(parts.query, safe=_SAFE)
        host = parts.hostname
        shown = f"[{host}]" if ":" in host else host
        header = shown if parts.port is None else f"{shown}:{port}"
        auth = None
        if parts.username is not None:  # user:password@ is Basic auth, as Twilio does
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(pair.encode()).decode()
        return cls(secure, host, port, path, header, auth)


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class SinkClient:
    """Sends deliveries; one per process, shared by every sink."""

    def __init__(self, policy: OutboundPolicy, ssl_context: ssl.SSLContext | None = None):
        self.policy = policy
        self._ssl = ssl_context or ssl.create_default_context()
        self._idle: dict[tuple[bool, str, int], list[_Connection]] = {}

    async def request(
        self, method: str, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> int:
        """Send ``body`` and return the answer's status; ``SinkError`` when there is none
        within ``timeout`` seconds (``DestinationDenied`` when the policy refuses)."""
        target = Target.of(url)
        lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if target.authorization:
            lines.append(f"Authorization: {target.authorization}")
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        key = (target.secure, target.host, target.port)
        phase = ["answer"]  # "connect" while a new connection is being made
        try:
            async with asyncio.timeout(timeout):
                return await self._exchange(key, target, head + body, phase)
        except TimeoutError:
            if phase[0] == "connect":
                raise ConnectTimeout(f"connecting to {target.host_header} timed out") from None
            raise ReadTimeout(f"{target.host_header} did not answer within {timeout:g} s") from None

    async def _exchange(
        self, key: tuple[bool, str, int], target: Target, data: bytes, phase: list[str]
    ) -> int:
        idle = self._idle.setdefault(key, [])
        while idle:  # a kept-alive connection the sink may have closed meanwhile
            conn = idle.pop()
            if not conn.usable():
                conn.close()
                continue
            try:
                return await self._send(key, conn, data)
            except (ConnectionError, _Stale):
                conn.close()  # closed under us before answering: a new connection
            except BaseException:
                conn.close()  # timed out or cancelled mid-answer: never reused
                raise
        phase[0] = "connect"
        conn = await self._connect(target)
        phase[0] = "answer"
        try:
            return await self._send(key, conn, data)
        except (OSError, asyncio.IncompleteReadError, _Stale) as exc:
            conn.close()
            raise RemoteProtocolError(f"{target.host_header}: {exc!r}") from exc
        except BaseException:
            conn.close()
            raise

    async def _send(self, key: tuple[bool, str, int], conn: _Connection, data: bytes) -> int:
        conn.writer.write(data)
        await conn.writer.drain()
        reader = conn.reader
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                status, keep, length, chunked = _parse_head(head)
                if status >= 200:
                    break
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale() from exc
            raise
        except asyncio.LimitOverrunError as exc:
            conn.close()
            raise RemoteProtocolError("the sink's answer has an oversized head") from exc
        if chunked:
            keep = keep and await _skip_chunks(reader)
        elif length is not None:
            if length > MAX_BODY:
                keep = False
            elif length:
                await reader.readexactly(length)
        elif status not in (204, 304):
            keep = False  # framed by closing the connection: nothing to read for us
        if keep:
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE:
                idle.append(conn)
                return status
        conn.close()
        return status

    async def _connect(self, target: Target) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectError(f"{target.host}: {exc}") from exc
        permitted: list[str] = []
        refusal: DestinationDenied | None = None
        for address in dict.fromkeys(str(info[4][0]) for info in infos):
            try:
                self.policy.check(target.host, address)
            except DestinationDenied as exc:
                refusal = refusal or exc
            else:
                permitted.append(address)
        if not permitted:
            raise refusal or ConnectError(f"{target.host} did not resolve")
        failure: Exception = ConnectError(f"could not connect to {target.host}")
        for address in permitted:
            try:
                reader, writer = await asyncio.open_connection(
                    address,
                    target.port,
                    ssl=self._ssl if target.secure else None,
                    server_hostname=target.host if target.secure else None,
                    limit=MAX_BODY,
                )
                return _Connection(reader, writer)
            except (OSError, ssl.SSLError) as exc:
                failure = ConnectError(f"{target.host_header}: {exc}")
        raise failure

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


class _Stale(Exception):
    """The connection closed before any byte of an answer."""


def _parse_head(head: bytes) -> tuple[int, bool, int | None, bool]:
    """Status, whether the connection may be kept, Content-Length, chunked."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise RemoteProtocolError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    connection = fields.get("connection", "").lower()
    keep = "keep-alive" in connection if parts[0] == "HTTP/1.0" else "close" not in connection
    chunked = "chunked" in fields.get("transfer-encoding", "").lower()
    raw_length = fields.get("content-length")
    length = int(raw_length) if raw_length and raw_length.isdigit() else None
    return int(parts[1]), keep, length, chunked


async def _skip_chunks(reader: asyncio.StreamReader) -> bool:
    """Read a chunked body away; False when it is too long to bother (close instead)."""
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return True
        total += size
        if total > MAX_BODY:
            return False
        await reader.readexactly(size + 2)
