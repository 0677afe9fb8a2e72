"""HTTP/1.1 for Event Streams deliveries: one request, its status, over kept-alive connections,
held to the outbound policy.

The protocol is h11's: it writes the request and reads every answer (status line, headers,
``Content-Length`` or chunked bodies, 1xx answers, whether the connection may carry the next
request), one ``h11.Connection`` per socket, started on its next cycle once both sides are
done. The connections are ours: the pool, timeouts, TLS, the policy and the errors.

Why not httpx, which every other outbound request uses: a delivery is a signed POST whose
answer only matters for its status, sent all day long, and httpx spent ~0.45 ms of CPU on each
(measured side by side against a local keep-alive sink, 55 kB bodies, client CPU only: httpx
430-500 µs a request, this client 95-120 µs, ~60 µs more than when it parsed HTTP by hand).
It does only what a sink needs: ``http``/``https``, Basic auth from the URL's user info, a
``Content-Length`` request body, the answer's body read and discarded up to ``MAX_BODY``
(longer, or framed only by the connection's end, and the connection is closed instead), no
redirects, no proxies.

Every connection resolves its host here, checks each address with the ``OutboundPolicy``
(``FLOWYARD_HTTP_DENY``/``ALLOW``) and connects to a checked one, as the flows' client does.
Errors carry httpx's names (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``,
``RemoteProtocolError``) so logs and alert codes read the same; an answer h11 cannot read is a
``RemoteProtocolError``.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import h11

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
    """A socket and its h11 state; one request at a time, the next once both sides are DONE."""

    __slots__ = ("h11", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_BODY)

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
        fields = [("Host", target.host_header), *headers.items()]
        if target.authorization:
            fields.append(("Authorization", target.authorization))
        fields.append(("Content-Length", str(len(body))))
        try:  # h11 checks the head here, before any connection is used for it
            head = h11.Request(method=method, target=target.path, headers=fields)
        except (h11.LocalProtocolError, UnicodeError) as exc:  # e.g. a header that is not ASCII
            raise ConnectError(f"cannot send that request: {exc}") from None
        key = (target.secure, target.host, target.port)
        phase = ["answer"]  # "connect" while a new connection is being made
        try:
            async with asyncio.timeout(timeout):
                return await self._exchange(key, target, (head, body), phase)
        except TimeoutError:
            if phase[0] == "connect":
                raise ConnectTimeout(f"connecting to {target.host_header} timed out") from None
            raise ReadTimeout(f"{target.host_header} did not answer within {timeout:g} s") from None

    async def _exchange(
        self, key: tuple[bool, str, int], target: Target, data: _Message, phase: list[str]
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
        except (OSError, _Stale) as exc:
            conn.close()
            raise RemoteProtocolError(f"{target.host_header}: {exc!r}") from exc
        except BaseException:
            conn.close()
            raise

    async def _send(self, key: tuple[bool, str, int], conn: _Connection, message: _Message) -> int:
        protocol = conn.h11
        head, body = message
        data = protocol.send(head) + protocol.send(h11.Data(data=body))
        protocol.send(h11.EndOfMessage())  # nothing more to write: the length was given
        conn.writer.write(data)
        await conn.writer.drain()
        try:
            status, keep = await _answer(conn)
        except h11.RemoteProtocolError as exc:
            conn.close()
            raise RemoteProtocolError(f"the sink's answer is not HTTP/1.1: {exc}") from None
        if keep and protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
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


_Message = tuple[h11.Request, bytes]


async def _answer(conn: _Connection) -> tuple[int, bool]:
    """Read the final answer's status, and whether the connection may carry the next request:
    its body read to the end by h11, unless it is longer than ``MAX_BODY`` or framed only by
    the connection's end (the sink may be slow to close it) — then the connection is closed."""
    protocol, status, received, total = conn.h11, 0, False, 0
    while True:
        event = protocol.next_event()
        if event is h11.NEED_DATA:
            chunk = await conn.reader.read(MAX_BODY)
            if not chunk and not received:
                raise _Stale()
            received = True
            protocol.receive_data(chunk)
        elif isinstance(event, h11.Response):
            status = event.status_code
            length = framed = None
            for name, value in event.headers:
                if name == b"content-length":
                    length = framed = int(value)  # h11 checked it is digits
                elif name == b"transfer-encoding":
                    framed = True
            if (length or 0) > MAX_BODY or (framed is None and status not in (204, 304)):
                return status, False
        elif isinstance(event, h11.Data):
            total += len(event.data)
            if total > MAX_BODY:  # a chunked answer that goes on: not worth reading
                return status, False
        elif isinstance(event, h11.EndOfMessage):
            return status, True
        elif isinstance(event, h11.ConnectionClosed):
            raise h11.RemoteProtocolError("the sink closed the connection")
        # an InformationalResponse (1xx) is followed by the answer itself
