"""Deterministic pieces for tests and in-process runs: a virtual clock, counter SIDs, stub
services that answer like Twilio, and a ``Session`` that chats with a flow."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from . import conversation
from .environment import Environment, _no_subflows, random_sid
from .io import CallResult, DeliveryFailure, Reply, Sprint, Step, Timeout, Trigger
from .model import Flow
from .runner import resume, start
from .services import Service, run_until_wait
from .state import ExecutionState, ServiceCall
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
        if self.new_sid is random_sid:
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


Responder = Callable[[ServiceCall], tuple[int, Any, str]]


class Stubs:
    """Answers service calls the way Twilio would, and records them in ``calls``.

    ``respond`` answers http/function calls with ``(status, body, content_type)`` (a body
    that is not a string is sent as JSON); by default every request gets ``200 {}``.
    ``functions`` maps a Run Function's ``function_sid`` (or its widget's name) to the URL a
    Function given by SIDs is called at; one not listed fails as an unknown Function does.
    """

    def __init__(
        self,
        clock: VirtualClock | None = None,
        *,
        respond: Responder | None = None,
        account_sid: str = ACCOUNT_SID,
        functions: dict[str, str] | None = None,
    ) -> None:
        self.clock = clock or VirtualClock()
        self.functions = dict(functions or {})
        self.respond = respond or (lambda call: (200, {}, "application/json"))
        self.account_sid = account_sid
        self.calls: list[ServiceCall] = []
        self.sids = CounterSids()
        self.fail_messages: str | None = None
        # The next message index of each conversation (inbound messages count too).
        self.conversation_index: Counter[str] = Counter()

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [c.request for c in self.calls if c.kind == "message"]

    def message(self, call: ServiceCall) -> CallResult:
        self.calls.append(call)
        if self.fail_messages:
            return CallResult(ok=False, data={}, error=self.fail_messages)
        if call.request.get("conversation_sid"):
            return self._conversation_message(call.request)
        request, sid = call.request, self.sids("SM")
        sender = str(request.get("from") or "")
        via_service = sender.startswith("MG")
        when = _iso(self.clock.now())
        return CallResult(
            ok=True,
            data={
                "Status": "accepted" if via_service else "queued",
                "ErrorCode": None,
                "Direction": "outbound-api",
                "ErrorMessage": None,
                "From": None if via_service else sender,
                "DateSent": None,
                "PriceUnit": None,
                "Price": None,
                "Sid": sid,
                "MessagingServiceSid": sender if via_service else None,
                "Body": message_body(request),
                "ApiVersion": "2010-04-01",
                "DateCreated": when,
                "SubresourceUris": {
                    "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
                },
                "To": request.get("to", ""),
                "NumMedia": str(len(request.get("media_urls") or [])),
                "AccountSid": self.account_sid,
                "NumSegments": "1",
                "DateUpdated": when,
            },
        )

    def heard(self, params: dict[str, Any]) -> None:
        """A contact's message reached the flow: in a conversation, it takes an index."""
        if conversation.is_message(params):
            sid = str(params["ConversationSid"])
            index = str(params.get("Index") or "")
            taken = int(index) if index.isdigit() else self.conversation_index[sid]
            self.conversation_index[sid] = max(self.conversation_index[sid], taken + 1)

    def _conversation_message(self, request: dict[str, Any]) -> CallResult:
        """A message posted into a conversation, as the Conversations API answers it."""
        conversation_sid = str(request["conversation_sid"])
        index = self.conversation_index[conversation_sid]
        self.conversation_index[conversation_sid] += 1
        when = _iso(self.clock.now())
        return CallResult(
            ok=True,
            data=conversation_outbound(
                sid=self.sids("IM"),
                account_sid=self.account_sid,
                conversation_sid=conversation_sid,
                author=str(request.get("author") or "system"),
                body=str(request.get("body") or ""),
                index=index,
                attributes=str(request.get("attributes") or "{}"),
                date=when,
            ),
        )

    def http(self, call: ServiceCall) -> CallResult:
        if call.kind == "function" and not call.request.get("url"):
            url = function_url(self.functions, call)
            if url is None:
                self.calls.append(call)
                return CallResult(ok=False, error=unknown_function(call))
            call = replace(call, request={**call.request, "url": url})
        self.calls.append(call)
        status, body, content_type = self.respond(call)
        text = body if isinstance(body, str) else json.dumps(body)
        return CallResult(
            ok=True,
            data={
                "status_code": status,
                "content_type": content_type,
                "body": text,
                "headers": {},
            },
        )

    def task(self, call: ServiceCall) -> CallResult:
        self.calls.append(call)
        request = call.request
        return CallResult(
            ok=True,
            data={
                "sid": self.sids("WT"),
                "attributes": request.get("attributes", "{}"),
                "workflow_sid": request.get("workflow_sid"),
                "task_channel_unique_name": request.get("channel"),
                "assignment_status": "pending",
                "priority": request.get("priority"),
                "timeout": request.get("timeout"),
            },
        )

    def services(self) -> dict[str, Service]:
        return {
            "message": self.message,
            "http": self.http,
            "function": self.http,
            "task": self.task,
        }


class Session:
    """One execution driven in-process: start it, then reply, time out or fail delivery.

    Service calls are answered by ``stubs``; every step and error is accumulated.
    """

    def __init__(
        self, flow: Flow, env: VirtualEnvironment | None = None, stubs: Stubs | None = None
    ) -> None:
        self.flow = flow
        self.env = env or VirtualEnvironment()
        self.stubs = stubs or Stubs(self.env.clock)
        self.steps: list[Step] = []
        self.errors: list[Any] = []
        self.base_context: dict[str, Any] | None = None
        self.sprint: Sprint | None = None

    @property
    def state(self) -> ExecutionState:
        assert self.sprint is not None, "start the session first"
        return self.sprint.state

    @property
    def context(self) -> dict[str, Any]:
        return self.state.context

    def path(self) -> list[tuple[str, str, str]]:
        return [(s.transitioned_from, s.name, s.transitioned_to) for s in self.steps]

    def _absorb(self, sprint: Sprint) -> Sprint:
        sprint = run_until_wait(self.flow, sprint, self.env, self.stubs.services())
        self.steps.extend(sprint.steps)
        self.errors.extend(sprint.errors)
        self.sprint = sprint
        return sprint

    def start(
        self, event: str = "incomingRequest", payload: dict[str, Any] | None = None
    ) -> Sprint:
        self.stubs.heard(payload or {})
        sprint = start(self.flow, Trigger(event, payload or {}), self.env)
        self.base_context = sprint.base_context
        return self._absorb(sprint)

    def rest(
        self, to: str = "+15550001111", from_: str = "+15559990000", **parameters: Any
    ) -> Sprint:
        return self.start("incomingRequest", {"to": to, "from": from_, "parameters": parameters})

    def text(
        self, body: str, from_: str = "+15550001111", to: str = "+15559990000", **extra: Any
    ) -> Sprint:
        """Start with an inbound SMS."""
        return self.start("incomingMessage", inbound_sms(body, from_, to, **extra))

    def conversation(
        self,
        body: str,
        author: str = "+15550001111",
        conversation_sid: str = "CH" + "c" * 32,
        **extra: Any,
    ) -> Sprint:
        """Start with a message added to a conversation (``incomingConversationMessage``)."""
        index = self.stubs.conversation_index[conversation_sid]
        params = conversation_message(body, author, conversation_sid, index=index, **extra)
        return self.start("incomingConversationMessage", params)

    def reply_in_conversation(self, body: str, **extra: Any) -> Sprint:
        """The contact answers in the execution's conversation."""
        conversation_sid = self.context["flow"]["channel"]["address"]
        author = self.context["contact"]["channel"]["address"]
        index = self.stubs.conversation_index[conversation_sid]
        return self.resume(
            Reply(conversation_message(body, author, conversation_sid, index=index, **extra))
        )

    def resume(self, resume_input: Any) -> Sprint:
        if isinstance(resume_input, Reply):
            self.stubs.heard(resume_input.params)
        return self._absorb(resume(self.flow, self.state, resume_input, self.env))

    def reply(self, body: str, **extra: Any) -> Sprint:
        contact = self.context["contact"]["channel"]["address"]
        address = self.context["flow"]["channel"]["address"]
        return self.resume(Reply(inbound_sms(body, contact, address, **extra)))

    def timeout(self) -> Sprint:
        """Move the clock to the wait's deadline and fire the timer."""
        wait, state = self.state.wait, self.state
        until = wait.until if wait is not None else state.expires_at
        if until is not None:
            # Waiting on anything else (a call's TwiML with no timer): the lifetime expiry.
            self.env.clock.set(datetime.fromtimestamp(until, UTC))
        return self.resume(Timeout())

    def fail_delivery(self, **params: Any) -> Sprint:
        return self.resume(DeliveryFailure(params))


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


def conversation_outbound(
    *,
    sid: str,
    account_sid: str,
    conversation_sid: str,
    author: str,
    body: str,
    index: int,
    attributes: str,
    date: str | None,
) -> dict[str, Any]:
    """A send widget's ``outbound`` for a message posted into a conversation: the
    Conversations Message resource in Studio's PascalCase."""
    return {
        "Sid": sid,
        "AccountSid": account_sid,
        "ConversationSid": conversation_sid,
        "Author": author,
        "Body": body,
        "Index": index,
        "Attributes": attributes,
        "Media": None,
        "ParticipantSid": None,
        "DateCreated": date,
        "DateUpdated": date,
    }
