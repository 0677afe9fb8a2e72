"""How long each HTTP request takes, by kind of request and status class.

Labels stay few: a kind named from the path's prefix (never the path or a SID) and the
status class. Each request costs a dict lookup and one histogram observation.
"""

from __future__ import annotations

from typing import Any

from flowyard.service.metrics import REQUEST_DURATION

HEALTH = frozenset({"/healthz", "/readyz", "/metrics"})
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def request_kind(path: str) -> str:
    """``webhook`` (the flow webhook Twilio calls), ``api`` (Studio and the Messages/Calls
    resources), ``console``, ``health`` (probes and scrapes) or ``other``."""
    if path.startswith("/v1/Accounts/"):
        return "webhook"
    if path.startswith(("/v2/", "/v1/", "/2010-04-01/")):
        return "api"
    if path == "/console" or path.startswith("/console/"):
        return "console"
    return "health" if path in HEALTH else "other"


class Timings:
    """The histogram's bound children, so a request does not go through ``labels()`` and its
    lock: ``observe(path, status, seconds)``."""

    def __init__(self) -> None:
        self._observe: dict[tuple[str, str], Any] = {}

    def observe(self, path: str, status: int, seconds: float) -> None:
        key = (request_kind(path), STATUS_CLASSES[min(max(status // 100, 1), 5) - 1])
        observe = self._observe.get(key)
        if observe is None:
            observe = self._observe[key] = REQUEST_DURATION.labels(*key).observe
        observe(seconds)
