"""HTTP Request and Run Function through a real server: the whole-request deadline, the body
limit and the outbound policy (FLOWYARD_HTTP_DENY / FLOWYARD_HTTP_ALLOW), on each backend.

A local target server records every request it gets, so a denied call is told apart from a
network failure: the target was up and reachable, and was never asked. Executions are polled
until they end, whether ``create`` answers at once or after the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import BACKENDS, Server, _database_url, _drop_database, start_server
from tests.flows import flow, go, state

CONTACT, NUMBER = "+15550001111", "+15559990000"
LIMIT = 64 * 1024


class _Target(BaseHTTPRequestHandler):
    """``/ok``, ``/bytes?n=`` (``&length=no``: close-delimited), ``/trickle``, ``/redirect?to=``."""

    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/trickle":  # one byte every 3 s: each read is quick, the whole is not
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(3)
        elif url.path == "/bytes":
            n = int(query["n"])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            if query.get("length") != "no":
                self.send_header("Content-Length", str(n))
            self.end_headers()
            for start in range(0, n, 8192):
                self.wfile.write(b"y" * min(8192, n - start))
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "11")
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []
    handler = type("Target", (_Target,), {"hits": hits})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_port, hits
    httpd.shutdown()


@pytest.fixture(scope="module", params=BACKENDS)
def strict_server(request, tmp_path_factory) -> Iterator[Server]:
    """A server that denies loopback but allows the name ``localhost``."""
    database_url, pg_name = _database_url(request.param, tmp_path_factory.mktemp("strict"))
    env = {"FLOWYARD_HTTP_DENY": "127.0.0.0/8,::1", "FLOWYARD_HTTP_ALLOW": "localhost"}
    srv, proc = start_server(database_url, request.param, env)
    try:
        yield srv
    finally:
        proc.terminate()
        proc.wait(10)
        if pg_name:
            _drop_database(pg_name)


def calls(*targets: tuple[str, str]) -> dict:
    """A flow calling each (widget type, URL) in turn, whatever each call's outcome."""
    states = []
    for i, (kind, url) in enumerate(targets):
        following = f"c{i + 1}" if i + 1 < len(targets) else None
        if kind == "http":
            events = [go("success", following), go("failed", following)]
            props = {"method": "GET", "url": url, "content_type": "application/json"}
            states.append(state(f"c{i}", "make-http-request", events, **props))
        else:
            events = [go("success", following), go("fail", following)]
            states.append(state(f"c{i}", "run-function", events, url=url))
    return flow(*states, rest="c0")


def run(server: Server, definition: dict, timeout: float = 60) -> list[str]:
    """Run ``definition`` through REST until it ends; the event each widget took."""
    client = server.new_client()
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    fetch = client.studio.v2.flows(flow_.sid).executions(execution.sid).fetch
    deadline = time.monotonic() + timeout
    while fetch().status == "active":
        assert time.monotonic() < deadline, "the execution did not end in time"
        time.sleep(0.2)
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    return [s.name for s in reversed(steps)][1:]  # without the trigger's step


def test_a_trickling_server_fails_the_widget_at_the_deadline(server, target):
    port, hits = target
    started = time.monotonic()
    events = run(server, calls(("http", f"http://127.0.0.1:{port}/trickle")))
    elapsed = time.monotonic() - started
    assert events == ["failed"]
    assert hits == ["/trickle"]
    # 10 s for the whole request; it used to be held ~45 s (each 3 s read was in time).
    assert 9 < elapsed < 25


def test_a_body_over_64_kb_fails_streamed_or_declared(server, target):
    port, _hits = target
    base = f"http://127.0.0.1:{port}/bytes?n="
    events = run(
        server,
        calls(
            ("http", f"{base}{LIMIT}"),
            ("http", f"{base}{LIMIT + 1}"),
            ("http", f"{base}{LIMIT + 1}&length=no"),
            ("http", f"{base}{50 * LIMIT}&length=no"),
            ("function", f"{base}{LIMIT + 1}"),
        ),
    )
    assert events == ["success", "failed", "failed", "failed", "fail"]


def test_default_policy_denies_metadata_and_this_network_but_not_loopback(server, target):
    port, hits = target
    events = run(
        server,
        calls(
            ("http", f"http://127.0.0.1:{port}/loopback"),
            ("http", f"http://0.0.0.0:{port}/this-network"),  # Linux would connect it locally
            ("http", "http://169.254.169.254/latest/meta-data/"),
            ("http", f"http://[::ffff:169.254.169.254]:{port}/mapped"),
            ("function", f"http://0.0.0.0:{port}/function"),
        ),
    )
    assert events == ["success", "failed", "failed", "failed", "fail"]
    assert hits == ["/loopback"]


def test_denied_loopback_is_denied_however_spelled_and_after_a_redirect(strict_server, target):
    port, hits = target
    secret = f"http://127.0.0.1:{port}/secret"
    events = run(
        strict_server,
        calls(
            ("http", f"http://localhost:{port}/allowed"),  # ALLOW wins for its entry
            ("http", f"http://127.0.0.1:{port}/secret"),
            ("http", f"http://2130706433:{port}/secret"),
            ("http", f"http://0x7f.1:{port}/secret"),
            ("http", f"http://localhost:{port}/redirect?to={secret}"),
            ("function", f"http://localhost:{port}/redirect?to={secret}"),
            ("http", f"http://localhost:{port}/redirect?to=http://localhost:{port}/again"),
        ),
    )
    assert events == ["success", "failed", "failed", "failed", "failed", "fail", "success"]
    assert "/secret" not in hits
    assert hits[0] == "/allowed" and hits[-1] == "/again"


def test_without_the_policy_the_same_redirect_reaches_its_target(server, target):
    # The control for the test above: it is the policy, not the network, that refused.
    port, hits = target
    secret = f"http://127.0.0.1:{port}/secret"
    events = run(server, calls(("http", f"http://localhost:{port}/redirect?to={secret}")))
    assert events == ["success"]
    assert hits[-1] == "/secret"
