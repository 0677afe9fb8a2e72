"""Deterministic pieces for tests and in-process runs: a virtual clock, counter SIDs and the
webhook parameters Twilio posts. The stubs that answer service calls as Twilio does, and the
``Session`` that chats with a flow, are host-side (``flowyard.testing.session``): they share
the local platform's fake of Twilio, which the pure engine may not import."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .environment import Environment, _no_subflows, fresh_sid
from .model import Flow
from .state import ServiceCall
from .widgets._messaging import content_preview

ACCOUNT_SID = "AC" + "0" * 32
EPOCH = datetime(2024, 1, 15, 17, 0, tzinfo=UTC)


class VirtualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        self._now += timedelta(seconds=seconds, **delta)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


class CounterSids:
    """SIDs counted per prefix: ``FT`` + 32 hex digits of 1, 2, 3..."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __call__(self, prefix: str) -> str:
        self.counts[prefix] += 1
        return f"{prefix}{self.counts[prefix]:032x}"


@dataclass
class VirtualEnvironment(Environment):
    """An ``Environment`` on a ``VirtualClock`` with counter SIDs; ``subflows`` maps a flow
    SID to the revision(s) ``load_subflow`` serves (a Flow, or ``{revision: Flow}``)."""

    clock: VirtualClock = field(default_factory=VirtualClock)
    subflows: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.now = self.clock.now
        if self.new_sid is fresh_sid:
            self.new_sid = CounterSids()
        if self.load_subflow is _no_subflows:
            self.load_subflow = self._load

    def _load(self, flow_sid: str, revision_spec: str) -> Flow | None:
        found = self.subflows.get(flow_sid)
        if isinstance(found, dict):
            if revision_spec.isdigit():
                return found.get(int(revision_spec))
            return found[max(found)] if found else None
        return found


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def function_url(functions: dict[str, Any], call: ServiceCall) -> Any:
    """What ``functions`` maps a Run Function given by SIDs to: by SID, then widget name."""
    sid = str(call.request.get("function_sid") or "")
    for key in (sid, call.widget):
        if key and key in functions:
            return functions[key]
    return None


def unknown_function(call: ServiceCall) -> str:
    sid = call.request.get("function_sid") or "?"
    return f"Function {sid} ({call.widget}) has no URL: map it in 'functions'"


def message_body(request: dict[str, Any]) -> str:
    """The body a message request ends up with: its own, or a template's readable stand-in."""
    body = str(request.get("body") or "")
    if body or not request.get("content_sid"):
        return body
    return content_preview(str(request["content_sid"]), request.get("content_variables"))


def inbound_sms(body: str, from_: str, to: str, **extra: Any) -> dict[str, Any]:
    """Webhook params of an inbound SMS, as Twilio posts them."""
    sid = "SM" + hashlib.md5(f"{body}|{from_}|{to}".encode()).hexdigest()
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def conversation_message(
    body: str, author: str, conversation_sid: str, *, index: int = 0, **extra: Any
) -> dict[str, Any]:
    """Webhook params of a message added to a conversation (``onMessageAdded``), as the
    Conversations service posts them to a Studio flow."""
    sid = "IM" + hashlib.md5(f"{body}|{author}|{conversation_sid}|{index}".encode()).hexdigest()
    participant = "MB" + hashlib.md5(f"{author}|{conversation_sid}".encode()).hexdigest()
    return {
        "EventType": "onMessageAdded",
        "AccountSid": ACCOUNT_SID,
        "ConversationSid": conversation_sid,
        "MessageSid": sid,
        "Index": str(index),
        "Author": author,
        "Body": body,
        "ParticipantSid": participant,
        "Source": "SMS",
        "Attributes": "{}",
        "DateCreated": _iso(EPOCH),
        "RetryCount": "0",
        **extra,
    }
