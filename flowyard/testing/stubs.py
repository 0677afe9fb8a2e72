"""Service calls answered in process by the same fake of Twilio the server's local platform
uses (``flowyard.platform.fake``): same refusals, same resources, same outputs; only the SIDs
are counted and the clock is virtual."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flowyard.engine import conversation
from flowyard.engine.io import CallResult
from flowyard.engine.services import Service
from flowyard.engine.state import ServiceCall
from flowyard.engine.testing import (
    ACCOUNT_SID,
    CounterSids,
    VirtualClock,
    function_url,
    unknown_function,
)
from flowyard.platform import (
    CallRequest,
    ConversationMessageRequest,
    Outcome,
    fake,
    fake_conversations,
)
from flowyard.platform import messaging_twiml as mtwiml
from flowyard.platform.resources import message_outputs

Responder = Callable[[ServiceCall], tuple[int, Any, str]]


def _result(outcome: Outcome) -> CallResult:
    """The engine's view of a platform answer, as the server's host builds it."""
    return CallResult(ok=outcome.ok, data=outcome.data, error=outcome.error)


class Stubs:
    """Answers service calls the way Twilio would, and records them in ``calls``.

    ``respond`` answers http/function calls with ``(status, body, content_type)`` (a body
    that is not a string is sent as JSON); by default every request gets ``200 {}``.
    ``functions`` maps a Run Function's ``function_sid`` (or its widget's name) to the URL a
    Function given by SIDs is called at; one not listed fails as an unknown Function does.
    ``records`` keeps what the server's local platform would have stored (messages, tasks...).
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
        self.records: list[tuple[str, dict[str, Any]]] = []
        self.sids = CounterSids()
        self.fail_messages: str | None = None
        # The next message index of each conversation (inbound messages count too).
        self.conversation_index: Counter[str] = Counter()
        # Conversations (and their participants) as the server's local platform records
        # them: created by Start Conversation, or heard of in a contact's message.
        self.conversations: dict[str, dict[str, Any]] = {}
        self.participants: dict[str, list[dict[str, Any]]] = {}

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [c.request for c in self.calls if c.kind == "message"]

    def _keep(self, outcome: Outcome) -> CallResult:
        self.records.extend(outcome.records)
        return _result(outcome)

    def message(self, call: ServiceCall, execution_sid: str = "") -> CallResult:
        self.calls.append(call)
        if self.fail_messages:
            return CallResult(ok=False, data={}, error=self.fail_messages)
        if call.request.get("conversation_sid"):
            return self._conversation_message(call.request, execution_sid)
        request = fake.message_request(call.request, self.account_sid, execution_sid)
        return self._keep(fake.send_message(request, self.sids("SM"), self.clock.now()))

    def heard(self, params: dict[str, Any]) -> None:
        """A contact's message reached the flow: in a conversation, it takes an index."""
        if conversation.is_message(params):
            sid = str(params["ConversationSid"])
            index = str(params.get("Index") or "")
            taken = int(index) if index.isdigit() else self.conversation_index[sid]
            self.conversation_index[sid] = max(self.conversation_index[sid], taken + 1)
            self._heard_conversation(params)

    def _heard_conversation(self, params: dict[str, Any]) -> None:
        # What the server's flow webhook records (``store.conversations.heard``).
        found, member = fake_conversations.heard_rows(self.account_sid, params, self.clock.now())
        self.conversations.setdefault(found["sid"], found)
        members = self.participants.setdefault(found["sid"], [])
        if member is not None and all(row["sid"] != member["sid"] for row in members):
            members.append(member)

    def conversation(self, call: ServiceCall, execution_sid: str = "") -> CallResult:
        """Start/Resume Conversation, answered as the server's local platform answers."""
        self.calls.append(call)
        sid = str(call.request.get("conversation_sid") or "")
        request = fake.conversation_request(
            call.request,
            self.account_sid,
            execution_sid,
            webhook_url="",  # no webhook: replies reach the in-process execution directly
            known=self.conversations.get(sid),
            known_participants=tuple(self.participants.get(sid, ())),
        )
        outcome = fake_conversations.attach(request, self.sids, self.clock.now())
        for kind, row in outcome.records:
            if kind == "conversation":
                self.conversations[row["sid"]] = dict(row)
            elif kind == "conversation_participant":
                self.participants.setdefault(row["conversation_sid"], []).append(dict(row))
            elif kind == "conversation_update":
                self.conversations[row["sid"]].update(row)
        return self._keep(outcome)

    def _conversation_message(self, request: dict[str, Any], execution_sid: str) -> CallResult:
        """A message posted into a conversation, as the Conversations API answers it."""
        conversation_sid = str(request["conversation_sid"])
        posted = ConversationMessageRequest(
            account_sid=self.account_sid,
            execution_sid=execution_sid,
            conversation_sid=conversation_sid,
            author=str(request.get("author") or "system"),
            body=str(request.get("body") or ""),
            attributes=request.get("attributes") or None,
            index=self.conversation_index[conversation_sid],
        )
        outcome = fake.send_conversation_message(posted, self.sids("IM"), self.clock.now())
        if outcome.ok:
            self.conversation_index[conversation_sid] += 1
        return self._keep(outcome)

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

    def task(self, call: ServiceCall, execution_sid: str = "") -> CallResult:
        self.calls.append(call)
        request = fake.task_request(call.request, self.account_sid, execution_sid)
        return self._keep(fake.create_task(request, self.sids("WT"), self.clock.now()))

    def place_call(self, call: ServiceCall, execution_sid: str = "") -> CallResult:
        """An outbound call, queued; whoever plays the callee answers it (or not)."""
        self.calls.append(call)
        request = call.request
        placed = CallRequest(
            account_sid=self.account_sid,
            execution_sid=execution_sid,
            to=str(request.get("to") or ""),
            from_=str(request.get("from") or ""),
            url="",  # no webhook: the in-process phone answers the execution directly
            status_callback="",
            options={k: v for k, v in request.items() if k not in ("to", "from")},
        )
        return self._keep(fake.place_call(placed, self.sids("CA"), self.clock.now()))

    def twiml_fetch(self, call: ServiceCall, execution_sid: str = "") -> CallResult:
        """A TwiML Redirect on a messaging execution, carried out as the server's host does:
        each fetch is answered by ``respond`` (an ``http`` call of the same widget), each
        ``<Message>`` is sent like a Send Message."""
        self.calls.append(call)
        answer = fetcher(lambda fetch: self.http(fetch_call(call.widget, fetch)))

        def step(item: mtwiml.Step) -> Outcome:
            if isinstance(item, mtwiml.Fetch):
                return answer(item)
            sent = self.message(ServiceCall("message", call.widget, item.request()), execution_sid)
            # ``self.message`` kept the sent message's records already.
            return Outcome(sent.ok, sent.data, sent.error)

        outcome = mtwiml.drive(mtwiml.carry_out(call.request, self.account_sid), step)
        return CallResult(ok=outcome.ok, data=outcome.data, error=outcome.error)

    def services(self) -> dict[str, Service]:
        return {
            "message": self.message,
            "http": self.http,
            "function": self.http,
            "task": self.task,
            "conversation": self.conversation,
            mtwiml.KIND: self.twiml_fetch,
        }

    def delivery_failure(
        self, execution_sid: str, status: str = "undelivered", error_code: str = "30003"
    ) -> dict[str, str]:
        """The status callback Twilio posts when the last message sent fails."""
        sent = [row for kind, row in self.records if kind == "message"]
        if not sent:
            raise ValueError("no message was sent to fail")
        return fake.delivery_callback(message_outputs(sent[-1]), execution_sid, status, error_code)


def fetch_call(widget: str, fetch: mtwiml.Fetch) -> ServiceCall:
    """A TwiML fetch as the ``http`` call a test's mocks and ``respond`` answer."""
    get = fetch.method == "GET"
    return ServiceCall(
        "http",
        widget,
        {
            "method": fetch.method,
            "url": fetch.url,
            "query": fetch.params if get else [],
            "form": None if get else fetch.params,
        },
    )


def fetcher(answer: Callable[[mtwiml.Fetch], CallResult]) -> Callable[[mtwiml.Fetch], Outcome]:
    """Mocks answer with a ``CallResult``; the driver reads an ``Outcome``."""

    def fetch(item: mtwiml.Fetch) -> Outcome:
        result = answer(item)
        return Outcome(result.ok, result.data, result.error)

    return fetch
