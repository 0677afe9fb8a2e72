"""Helpers for the voice tests: call flows, a fresh account per test, steps and contexts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.rest import Client

from flowyard.testing.voice import VoiceClient
from tests.flows import go, state

CALLER, NUMBER = "+15550001111", "+15559990000"


def call_flow(
    *states: dict[str, Any],
    first: str | None = None,
    rest: str | None = None,
    concurrent: bool = True,
) -> dict[str, Any]:
    """A definition whose ``incomingCall`` (and ``incomingRequest``) go to the given widgets."""
    trigger = state(
        "Trigger",
        "trigger",
        [
            go("incomingMessage"),
            go("incomingCall", first or states[0]["name"]),
            go("incomingRequest", rest),
        ],
    )
    return {
        "description": "voice test flow",
        "initial_state": "Trigger",
        "states": [trigger, *states],
        "flags": {"allow_concurrent_calls": concurrent},
    }


@dataclass
class Harness:
    """An account of its own on the test server, its SDK client and a voice client."""

    client: Client
    voice: VoiceClient

    def create(self, definition: dict[str, Any]) -> str:
        return self.client.studio.v2.flows.create(
            friendly_name="voice", status="published", definition=definition
        ).sid

    def steps(self, flow_sid: str, execution_sid: str) -> list[tuple[str, str, str]]:
        steps = self.client.studio.v2.flows(flow_sid).executions(execution_sid).steps.list()
        return [(s.transitioned_from, s.name, s.transitioned_to) for s in reversed(steps)]

    def context(self, flow_sid: str, execution_sid: str) -> dict[str, Any]:
        return (
            self.client.studio.v2.flows(flow_sid)
            .executions(execution_sid)
            .execution_context()
            .fetch()
            .context
        )

    def execution(self, flow_sid: str, execution_sid: str) -> Any:
        return self.client.studio.v2.flows(flow_sid).executions(execution_sid).fetch()


@contextmanager
def harness(server: Any) -> Iterator[Harness]:
    sid, token = server.new_account()
    voice = VoiceClient(server.base_url, sid, token)
    try:
        yield Harness(server.client(sid, token), voice)
    finally:
        voice.close()


def twiml(text: str) -> ET.Element:
    return ET.fromstring(text)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
