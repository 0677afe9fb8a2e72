"""The outbound policy on its own: entries, precedence, address forms, and that a connection
goes to an address that was checked (so a name cannot resolve elsewhere after the check)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flowyard.config import Settings
from flowyard.platform import outbound
from flowyard.platform.http import HttpRequest, perform
from flowyard.platform.outbound import DestinationDenied, OutboundPolicy, Rules, policy_client
from flowyard.testing.mocks import run_sync

DEFAULT = OutboundPolicy.from_settings(None, None)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("169.254.169.254", "169.254.169.254"),
        ("x", "169.254.170.2"),  # ECS task metadata
        ("x", "fe80::1%eth0"),
        ("x", "fd00:ec2::254"),
        ("x", "::ffff:169.254.169.254"),  # IPv4-mapped
        ("x", "0.0.0.0"),
        ("x", "::"),
        ("metadata.google.internal", "10.0.0.1"),
        ("METADATA.google.internal.", "10.0.0.1"),
    ],
)
def test_default_denies_link_local_metadata_and_this_network(host, address):
    with pytest.raises(DestinationDenied, match="denied by FLOWYARD_HTTP_DENY"):
        DEFAULT.check(host, address)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "93.184.215.14"])
def test_default_allows_loopback_private_and_public(address):
    DEFAULT.check("example.test", address)


def test_deny_adds_to_the_built_in_list_and_allow_wins_for_its_entries():
    policy = OutboundPolicy.from_settings(
        "127.0.0.0/8, ::1, 10.0.0.0/8, .internal.example", "10.1.0.0/16,localhost"
    )
    with pytest.raises(DestinationDenied, match=r"destination 127\.0\.0\.2 .* \(127\.0\.0\.0/8\)"):
        policy.check("127.0.0.2", "127.0.0.2")
    with pytest.raises(DestinationDenied, match=r"169\.254\.0\.0/16"):
        policy.check("x", "169.254.169.254")  # still denied by the built-in list
    with pytest.raises(DestinationDenied, match=r"destination db\.internal\.example denied"):
        policy.check("db.internal.example", "192.0.2.1")
    policy.check("localhost", "127.0.0.1")  # the allowed name wins over the denied address
    policy.check("app", "10.1.2.3")  # the allowed network wins over 10.0.0.0/8
    with pytest.raises(DestinationDenied):
        policy.check("app", "10.2.0.1")
    OutboundPolicy.from_settings(None, "169.254.169.254").check("x", "169.254.169.254")


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "host:80", "two words", "a/b"])
def test_a_malformed_entry_is_refused(entry):
    with pytest.raises(ValueError, match="neither a CIDR"):
        Rules.parse([entry])


def test_settings_read_the_two_variables(monkeypatch):
    monkeypatch.setenv("FLOWYARD_HTTP_DENY", "127.0.0.0/8")
    monkeypatch.setenv("FLOWYARD_HTTP_ALLOW", "localhost")
    settings = Settings.from_env()
    assert (settings.http_deny, settings.http_allow) == ("127.0.0.0/8", "localhost")


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_port
    httpd.shutdown()


def _get(policy: OutboundPolicy, url: str):
    async def go():
        async with policy_client(policy) as client:
            return await perform(client, HttpRequest("GET", url))

    return run_sync(go)  # asyncio.run refuses where another test left a loop running


def test_the_connection_goes_only_to_a_checked_address(monkeypatch, port):
    # "rebind.test" resolves to a denied address and an allowed one: only the allowed one is
    # dialled, and the name is resolved once, by the check, never again by the connection.
    lookups: list[str] = []

    async def resolve(host, port_, **kwargs):
        lookups.append(host)
        addresses = ["169.254.169.254", "127.0.0.1"] if host == "rebind.test" else ["169.254.1.1"]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port_)) for a in addresses]

    monkeypatch.setattr(outbound.anyio, "getaddrinfo", resolve)
    outcome = _get(DEFAULT, f"http://rebind.test:{port}/")
    assert outcome.ok and outcome.data["body"] == "hello"
    assert lookups == ["rebind.test"]
    denied = _get(DEFAULT, f"http://only-metadata.test:{port}/")
    assert not denied.ok
    assert denied.error == (
        "Request refused: destination 169.254.1.1 denied by FLOWYARD_HTTP_DENY (169.254.0.0/16)"
    )


def test_other_spellings_of_a_denied_address_are_resolved_first(port):
    policy = OutboundPolicy.from_settings("127.0.0.0/8", None)
    for host in ("127.0.0.1", "2130706433", "0x7f.1", "127.1", "localhost"):
        outcome = _get(policy, f"http://{host}:{port}/")
        assert not outcome.ok and "denied by FLOWYARD_HTTP_DENY (127.0.0.0/8)" in outcome.error
    assert _get(DEFAULT, f"http://127.1:{port}/").ok
