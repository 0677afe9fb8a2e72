"""Local HTTP endpoints for tests: ``serving_http`` runs any handler on a free port; the
``http_stub`` answers 200 text/plain and records calls; ``JsonHandler`` is the base of
stand-ins for JSON APIs (Twilio's)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.calls.append((self.command, self.path, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet handler with ``answer(status, body)`` for JSON bodies."""

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """Serve ``handler`` on 127.0.0.1 in a thread; yield its port, shut it down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


@contextmanager
def http_stub() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """Yield the stub's base URL and the list its calls are appended to."""
    handler = type("StubHandler", (Recorder,), {"calls": []})
    with serving_http(handler) as port:
        yield f"http://127.0.0.1:{port}/callback", handler.calls
