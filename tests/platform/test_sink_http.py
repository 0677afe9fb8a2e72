"""The Event Streams HTTP client against real local HTTP/1.1 servers: kept-alive connections
reused, a connection the sink closed replaced, chunked and unframed answers read, Basic auth
from the URL, the outbound policy applied, errors named as httpx names them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flowyard.platform.outbound import DestinationDenied, OutboundPolicy
from flowyard.platform.sink_http import (
    MAX_BODY,
    ConnectError,
    ReadTimeout,
    RemoteProtocolError,
    SinkClient,
)
from flowyard.testing.mocks import run_sync
from tests.e2e.stub import serving_http

POLICY = OutboundPolicy.from_settings(None, None)


class KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, bytes, int, str | None]] = []
    answer = "length"  # length | chunked | close | slow | drop (closes, said nothing)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        port = self.client_address[1]
        self.seen.append((self.command, self.path, body, port, self.headers.get("Authorization")))
        self.send_response(202)
        if self.answer == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n")
        elif self.answer == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"bye")
            self.close_connection = True
        else:
            if self.answer == "slow":
                threading.Event().wait(2)
            self.close_connection = self.answer == "drop"
            self.send_header("Content-Length", "2")
            with contextlib.suppress(OSError):  # a client that timed out is gone
                self.end_headers()
                self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _handler(answer: str) -> type[KeepAlive]:
    return type("Handler", (KeepAlive,), {"seen": [], "answer": answer})


def _post(client: SinkClient, url: str, body: bytes = b"[]", timeout: float = 10) -> int:
    return run_sync(lambda: _send(client, url, body, timeout))


async def _send(client: SinkClient, url: str, body: bytes, timeout: float) -> int:
    try:
        return await client.request("POST", url, body, {"X-Test": "1"}, timeout)
    finally:
        await client.aclose()


@pytest.mark.parametrize("answer", ["length", "chunked", "close"])
def test_answers_are_read_and_kept_alive_connections_reused(answer):
    handler = _handler(answer)
    with serving_http(handler) as port:
        client = SinkClient(POLICY)

        async def three() -> list[int]:
            try:
                url = f"http://127.0.0.1:{port}/events?bodySHA256=ab%20c"
                return [await client.request("POST", url, b"[1]", {}, 10) for _ in range(3)]
            finally:
                await client.aclose()

        assert run_sync(three) == [202, 202, 202]
    assert [(m, p, b) for m, p, b, _, _ in handler.seen] == [
        ("POST", "/events?bodySHA256=ab%20c", b"[1]")
    ] * 3
    ports = {port for *_, port, _ in handler.seen}
    assert len(ports) == (3 if answer == "close" else 1)


def test_a_connection_the_sink_closed_is_replaced():
    handler = _handler("drop")  # keep-alive by HTTP/1.1's default, then closed
    with serving_http(handler) as port:
        client = SinkClient(POLICY)

        async def three() -> list[int]:
            try:
                url = f"http://127.0.0.1:{port}/e"
                first = await client.request("POST", url, b"a", {}, 10)
                second = await client.request("POST", url, b"b", {}, 10)  # at once: closing
                await asyncio.sleep(0.2)
                return [first, second, await client.request("POST", url, b"c", {}, 10)]
            finally:
                await client.aclose()

        assert run_sync(three) == [202, 202, 202]
    assert [b for _, _, b, _, _ in handler.seen] == [b"a", b"b", b"c"]


def test_basic_auth_comes_from_the_url():
    handler = _handler("length")
    with serving_http(handler) as port:
        assert _post(SinkClient(POLICY), f"http://us%40er:p%3Ass@127.0.0.1:{port}/x") == 202
    expected = "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert handler.seen[0][4] == expected and handler.seen[0][1] == "/x"


def test_errors_are_named_as_httpx_names_them():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    with pytest.raises(ConnectError):
        _post(SinkClient(POLICY), f"http://127.0.0.1:{closed}/")
    with pytest.raises(DestinationDenied):
        _post(SinkClient(POLICY), "http://169.254.169.254/latest/meta-data")
    with serving_http(_handler("slow")) as port, pytest.raises(ReadTimeout):
        _post(SinkClient(POLICY), f"http://127.0.0.1:{port}/", timeout=0.5)


def test_https_with_the_sinks_certificate_checked(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    handler = _handler("length")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://localhost:{server.server_port}/tls"
        trusting = ssl.create_default_context(cafile=str(cert))
        assert _post(SinkClient(POLICY, trusting), url) == 202
        with pytest.raises(ConnectError):  # not trusted: the system's CAs never signed it
            _post(SinkClient(POLICY), url)
    finally:
        server.shutdown()
    assert [p for _, p, _, _, _ in handler.seen] == ["/tls"]


class Scripted(socketserver.BaseRequestHandler):
    """Answers every request with the same bytes, whatever they are; counts connections."""

    answer = b""
    close = False  # close the connection after answering
    connections: list[int] = []

    def handle(self) -> None:
        self.connections.append(self.client_address[1])
        stream = self.request.makefile("rb")
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = stream.readline()
                if not line:
                    return
                head += line
            stream.read(int(re.search(rb"content-length: *(\d+)", head, re.I)[1]))
            with contextlib.suppress(OSError):
                self.request.sendall(self.answer)
            if self.close:
                return


@contextlib.contextmanager
def scripted(answer: bytes, close: bool = False) -> Iterator[tuple[str, list[int]]]:
    handler = type("Handler", (Scripted,), {"answer": answer, "close": close, "connections": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/e", handler.connections
    finally:
        server.shutdown()
        server.server_close()


def _statuses(url: str, times: int) -> list[int]:
    client = SinkClient(POLICY)

    async def send() -> list[int]:
        try:
            return [await client.request("POST", url, b"[]", {}, 10) for _ in range(times)]
        finally:
            await client.aclose()

    return run_sync(send)


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closed at once
        b"garbage\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",  # then closed
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (MAX_BODY + 10),  # a head with no end
        b"HTTP/1.1 200",  # then closed
    ],
)
def test_a_malformed_answer_is_a_remote_protocol_error(answer):
    with scripted(answer, close=True) as (url, _), pytest.raises(RemoteProtocolError):
        _statuses(url, 1)


def test_informational_answers_are_passed_over():
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    with scripted(answer) as (url, connections):
        assert _statuses(url, 2) == [202, 202]
    assert len(connections) == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),  # never sent
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (MAX_BODY + 1, b"a" * (MAX_BODY + 1)),  # and no last chunk
        b"HTTP/1.1 200 OK\r\n\r\nuntil the connection ends",  # which it does not
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_a_long_or_last_answer_closes_the_connection(answer):
    """The status is returned without reading what is not worth it, on a new connection next."""
    with scripted(answer) as (url, connections):
        assert _statuses(url, 2) == [200, 200]
    assert len(connections) == 2
