"""The outbound policy for URLs a flow chooses (Make HTTP Request, Run Function).

``FLOWYARD_HTTP_DENY`` and ``FLOWYARD_HTTP_ALLOW`` are comma-separated CIDRs, addresses and
host names (``.example.com`` also names its subdomains). Link-local addresses, where the cloud
metadata services live, and "this network" (``0.0.0.0/8``, ``::``) are always denied;
``FLOWYARD_HTTP_DENY`` adds to them, and an ``FLOWYARD_HTTP_ALLOW`` entry wins over any deny.

The check is made by the connection itself (``PolicyTransport``): every hop, redirects
included, resolves its host here, checks each address it resolved to, and connects to an
address it checked, so neither an IP spelled otherwise (``2130706433``, ``0x7f.1``) nor a name
that resolves elsewhere a moment later (DNS rebinding) gets past it. The Twilio API client does
not go through it: ``FLOWYARD_TWILIO_API_URL`` is the operator's choice, not a flow's.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore
import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Always denied: "this network", link-local (AWS, GCP and Azure metadata at 169.254.169.254,
# AWS's IPv6 one inside fd00:ec2::/32) and the metadata names and addresses clouds document.
BUILT_IN_DENY = (
    "0.0.0.0/8",
    "::/128",
    "169.254.0.0/16",
    "fe80::/10",
    "fd00:ec2::254/128",
    "100.100.100.200/32",
    "metadata.google.internal",
)


class DestinationDenied(Exception):
    """The policy refuses this destination; the message names the setting that did."""


@dataclass(frozen=True)
class Rules:
    """One list of the policy: networks and host names."""

    networks: tuple[Network, ...] = ()
    hosts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Rules:
        """Rules from entries such as ``10.0.0.0/8``, ``::1``, ``api.example.com``;
        raises ``ValueError`` on an entry that is none of these."""
        networks: list[Network] = []
        hosts: list[str] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or ":" in entry or " " in entry:
                raise ValueError(f"{raw.strip()!r} is neither a CIDR, an address nor a host name")
            hosts.append(entry.rstrip("."))
        return cls(tuple(networks), tuple(hosts))

    def network_of(self, addresses: Iterable[Address]) -> Network | None:
        """The first network holding one of ``addresses``."""
        for address in addresses:
            for network in self.networks:
                if address.version == network.version and address in network:
                    return network
        return None

    def names(self, host: str) -> bool:
        """Whether ``host`` is one of the names (or under a ``.domain`` entry)."""
        host = host.lower().rstrip(".")
        return any(
            host == name or (name.startswith(".") and host.endswith(name)) for name in self.hosts
        )


def _forms(address: str) -> list[Address]:
    """An address and, for an IPv4-mapped IPv6 one, the IPv4 address it stands for."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return [ip, mapped] if mapped is not None else [ip]


@dataclass(frozen=True)
class OutboundPolicy:
    """Which destinations flow-controlled HTTP may reach."""

    deny: Rules
    allow: Rules

    @classmethod
    def from_settings(cls, deny: str | None, allow: str | None) -> OutboundPolicy:
        """The built-in denials plus ``FLOWYARD_HTTP_DENY``, and ``FLOWYARD_HTTP_ALLOW``."""
        return cls(
            deny=Rules.parse([*BUILT_IN_DENY, *(deny or "").split(",")]),
            allow=Rules.parse((allow or "").split(",")),
        )

    def check(self, host: str, address: str) -> None:
        """Raise ``DestinationDenied`` unless ``host``, resolved to ``address``, may be reached."""
        if self.allow.names(host):
            return
        forms = _forms(address)
        if self.allow.network_of(forms) is not None:
            return
        if self.deny.names(host):
            raise DestinationDenied(f"destination {host} denied by FLOWYARD_HTTP_DENY")
        network = self.deny.network_of(forms)
        if network is not None:
            raise DestinationDenied(
                f"destination {forms[-1]} denied by FLOWYARD_HTTP_DENY ({network})"
            )


class PolicyBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, checks every address, and connects to a checked one."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        permitted: list[str] = []
        refusal: DestinationDenied | None = None
        for address in dict.fromkeys(str(info[4][0]) for info in infos):
            try:
                self.policy.check(host, address)
            except DestinationDenied as exc:
                refusal = refusal or exc
            else:
                permitted.append(address)
        if not permitted:
            raise refusal or httpcore.ConnectError(f"{host} did not resolve")
        failure: Exception = httpcore.ConnectError(f"could not connect to {host}")
        for address in permitted:  # in resolver order, as a plain connect would try them
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationDenied("unix sockets are not reachable from flows")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PolicyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connections made through ``PolicyBackend``."""

    def __init__(self, policy: OutboundPolicy, ssl_context: ssl.SSLContext | None = None) -> None:
        # No proxies from the environment: a proxy would be the only address checked.
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            network_backend=PolicyBackend(policy),
        )


def policy_client(policy: OutboundPolicy) -> httpx.AsyncClient:
    """An HTTP client for flow-controlled URLs, held to ``policy`` on every hop."""
    return httpx.AsyncClient(transport=PolicyTransport(policy), trust_env=False)
