"""A local Event Streams webhook receiver: records every delivery, checks its signature, and
can go down (its port closed) and come back on the same port."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator


@dataclass
class Delivery:
    url: str
    headers: dict[str, str]
    body: str
    valid: bool  # X-Twilio-Signature checked with the account's token

    @property
    def events(self) -> list[dict[str, Any]]:
        data = json.loads(self.body)
        return data if isinstance(data, list) else [data]


@dataclass
class Receiver:
    token: str
    delay: float = 0.0  # seconds each answer takes (a slow sink)
    status: int = 200
    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    hits: int = 0  # requests answered, whatever the status
    _httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                url = f"http://127.0.0.1:{receiver.port}{self.path}"
                signature = self.headers.get("X-Twilio-Signature", "")
                valid = RequestValidator(receiver.token).validate(url, body, signature)
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.hits += 1
                if receiver.status < 300:
                    receiver.deliveries.append(Delivery(url, dict(self.headers), body, valid))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until ``start`` again."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def events(self) -> list[dict[str, Any]]:
        return [event for d in list(self.deliveries) for event in d.events]

    def of_execution(self, execution_sid: str) -> list[dict[str, Any]]:
        """The execution's events in arrival order, each once (the first time it came)."""
        seen: set[str] = set()
        found = []
        for event in self.events():
            data = event["data"]
            ours = execution_sid in (data.get("execution_sid"), data.get("correlation_sid"))
            if ours and event["id"] not in seen:
                seen.add(event["id"])
                found.append(event)
        return found
