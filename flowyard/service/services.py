"""Answering the engine's service calls: messages, tasks, HTTP, Functions, calls, recordings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import sqlalchemy as sa

from flowyard import engine
from flowyard.config import Settings
from flowyard.platform import (
    CallRequest,
    CallUpdate,
    ConversationMessageRequest,
    Outcome,
    Platform,
    RecordingRequest,
    fake,
    messaging_twiml,
)
from flowyard.platform.functions import Functions, load_mapping
from flowyard.platform.http import HttpRequest, perform
from flowyard.service.alerts import Problem
from flowyard.service.persistence import ANSWER, TWIML
from flowyard.store import accounts as account_store
from flowyard.store import calls as call_store
from flowyard.store import conversations
from flowyard.store.clock import utcnow

log = logging.getLogger("flowyard.runtime")

ENDED_CALL = ("completed", "busy", "failed", "no-answer", "canceled")
NO_CALL = "no call is in progress for this execution"
# Service calls the platform (Twilio, or the local one) answers, with its own error codes.
PLATFORM_CALLS = ("message", "call", "task", "recording", "conversation")
RINGING = ("queued", "initiated", "ringing")
# Calls with effects outside this process whatever the platform; on ``local``, messages and
# tasks are only records, stored with the sprint.
ALWAYS_EXTERNAL = ("http", "function", "call", "recording", messaging_twiml.KIND)


class ServiceCalls:
    """The outside world as the engine's host sees it."""

    def __init__(
        self,
        db: sa.Engine,
        settings: Settings,
        platform: Platform,
        http: httpx.AsyncClient,
        write: Callable[..., Awaitable[Any]],
    ) -> None:
        self.db = db
        self.write = write  # the host's: a write that never waits on the event loop
        self.settings = settings
        self.platform = platform
        self.http = http
        self.functions = Functions(
            load_mapping(settings.functions), getattr(platform, "function_url", None)
        )

    def external(self, kind: str) -> bool:
        """Whether answering a ``kind`` call has effects outside this process."""
        return kind in ALWAYS_EXTERNAL or self.platform.name != "local"

    async def serve(
        self,
        call: engine.ServiceCall,
        state: engine.ExecutionState,
        account_sid: str,
        unsaved: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> Outcome:
        """Answer one service call; ``unsaved`` are records of this sprint not yet stored."""
        request = call.request
        if call.kind == "message" and request.get("conversation_sid"):
            outcome = await self._post_to_conversation(request, state, account_sid, unsaved)
        elif call.kind == "message":
            outcome = await self.platform.send_message(
                fake.message_request(
                    request,
                    account_sid,
                    state.execution_sid,
                    self._status_callback(account_sid, state),
                )
            )
        elif call.kind == "conversation":
            outcome = await self._attach_conversation(request, state, account_sid)
        elif call.kind == "task":
            outcome = await self.platform.create_task(
                fake.task_request(request, account_sid, state.execution_sid)
            )
        elif call.kind == "function" and not request.get("url"):
            url, problem = await self.functions.url(request, call.widget)
            if url is None:
                return Outcome(False, None, problem)
            # Kept on the request: an alert for a failed call names the URL it went to.
            request["url"] = url
            return await self.serve(call, state, account_sid, unsaved)
        elif call.kind == messaging_twiml.KIND:
            outcome = await self._carry_out_twiml(request, state, account_sid)
        elif call.kind in ("http", "function"):
            # Studio signs its outbound calls, so apps that check X-Twilio-Signature accept them.
            with self.db.connect() as conn:
                account = account_store.get_account(conn, account_sid)
            token = account.auth_token if account else None
            form = request.get("form")
            auth = self._twilio_credentials(account) if request.get("twilio_auth") else None
            outcome = await perform(
                self.http,
                HttpRequest(
                    method=request.get("method", "POST"),
                    url=request["url"],
                    query=[tuple(pair) for pair in request.get("query") or []],
                    form=[tuple(pair) for pair in form] if form is not None else None,
                    content=request.get("content"),
                    content_type=request.get("content_type"),
                    timeout=float(request.get("timeout", 10)),
                    max_bytes=int(request.get("max_bytes", 64 * 1024)),
                    signing_token=token,
                    basic_auth=auth,
                ),
            )
        elif call.kind == "call":
            outcome = await self._place_call(request, state, account_sid)
        elif call.kind == "recording":
            outcome = await self._record(request, state, account_sid, unsaved)
        else:
            outcome = Outcome(False, None, f"unsupported service call {call.kind}")
        return outcome

    async def _post_to_conversation(
        self,
        request: dict[str, Any],
        state: engine.ExecutionState,
        account_sid: str,
        unsaved: Sequence[tuple[str, dict[str, Any]]],
    ) -> Outcome:
        """A send widget of an execution started in a conversation posts into it."""
        conversation_sid = str(request["conversation_sid"])
        with self.db.connect() as conn:
            index = conversations.next_index(conn, account_sid, conversation_sid)
        for kind, row in unsaved:  # posted earlier in this sprint, not stored yet
            if kind == "conversation_message" and row["conversation_sid"] == conversation_sid:
                index = max(index, row["index"] + 1)
        return await self.platform.send_conversation_message(
            ConversationMessageRequest(
                account_sid=account_sid,
                execution_sid=state.execution_sid,
                conversation_sid=conversation_sid,
                author=str(request.get("author") or "system"),
                body=str(request.get("body") or ""),
                attributes=request.get("attributes") or None,
                index=index,
                service_sid=request.get("conversation_service_sid") or None,
            )
        )

    async def _attach_conversation(
        self, request: dict[str, Any], state: engine.ExecutionState, account_sid: str
    ) -> Outcome:
        """Start or Resume Conversation: its messages come to the flow webhook, which gives
        them to this execution (``Runtime.route_message``)."""
        known, members = None, ()
        sid = str(request.get("conversation_sid") or "")
        if sid:
            with self.db.connect() as conn:
                known = conversations.get_conversation(conn, account_sid, sid)
                members = tuple(conversations.participants(conn, account_sid, sid))
        webhook = self.webhook_url(account_sid, state.flow_sid)
        return await self.platform.attach_conversation(
            fake.conversation_request(
                request, account_sid, state.execution_sid, webhook, known, members
            )
        )

    async def release_conversations(self, account_sid: str, execution_sid: str) -> None:
        """The execution ended: remove the webhooks its Start/Resume Conversation registered
        (Studio does), so the conversations stop posting to the flow."""
        with self.db.connect() as conn:
            attached = conversations.with_webhook(conn, account_sid, execution_sid)
        for row in attached:
            outcome = await self.platform.detach_conversation(
                account_sid, row.chat_service_sid, row.sid, row.webhook_sid
            )
            if not outcome.ok:
                log.warning("webhook %s of %s not removed: %s", row.webhook_sid, row.sid,
                            outcome.error)  # fmt: skip
                continue
            values = {"webhook_sid": None, "date_updated": utcnow()}
            await self.write(conversations.update_conversation, account_sid, row.sid, values)

    def _signing_token(self, account_sid: str) -> str | None:
        with self.db.connect() as conn:
            account = account_store.get_account(conn, account_sid)
        return account.auth_token if account else None

    async def _carry_out_twiml(
        self, request: dict[str, Any], state: engine.ExecutionState, account_sid: str
    ) -> Outcome:
        """A TwiML Redirect on a messaging execution: fetch the URL as Twilio would (signed,
        through the outbound policy of ``self.http``) and send its ``<Message>`` verbs."""
        token = self._signing_token(account_sid)
        driver = messaging_twiml.carry_out(request, account_sid)
        step = next(driver)
        try:
            while True:
                if isinstance(step, messaging_twiml.Fetch):
                    get = step.method == "GET"
                    answer = await perform(
                        self.http,
                        HttpRequest(
                            method=step.method,
                            url=step.url,
                            query=step.params if get else [],
                            form=None if get else step.params,
                            timeout=10.0,
                            signing_token=token,
                        ),
                    )
                else:
                    answer = await self.platform.send_message(
                        fake.message_request(
                            step.request(),
                            account_sid,
                            state.execution_sid,
                            self._status_callback(account_sid, state),
                        )
                    )
                step = driver.send(answer)
        except StopIteration as stop:
            return stop.value

    def _twilio_credentials(self, account: Any) -> tuple[str, str] | None:
        """What "Authenticate with Twilio" sends: the real Twilio account's credentials on the
        ``twilio`` platform, the Flowyard account's on the local one (whose API it mimics)."""
        settings = self.settings
        if self.platform.name == "twilio" and settings.twilio_account_sid:
            return settings.twilio_account_sid, settings.twilio_auth_token or ""
        return (account.sid, account.auth_token) if account is not None else None

    def webhook_url(self, account_sid: str, flow_sid: str, base: str | None = None) -> str:
        """The flow webhook; relative when no public URL is known (local simulated calls)."""
        root = (base or self.settings.public_url or "").rstrip("/")
        return f"{root}/v1/Accounts/{account_sid}/Flows/{flow_sid}"

    def has_call(self, execution_sid: str) -> bool:
        with self.db.connect() as conn:
            call = call_store.call_of_execution(conn, execution_sid)
        return call is not None and call.status not in ENDED_CALL

    async def _place_call(
        self, request: dict[str, Any], state: engine.ExecutionState, account_sid: str
    ) -> Outcome:
        url = self.webhook_url(account_sid, state.flow_sid)
        url += f"?executionSid={state.execution_sid}"
        options = {k: v for k, v in request.items() if k not in ("to", "from")}
        return await self.platform.place_call(
            CallRequest(
                account_sid=account_sid,
                execution_sid=state.execution_sid,
                to=request.get("to") or "",
                from_=request.get("from") or "",
                url=url,
                status_callback=url,
                options=options,
            )
        )

    async def pull_back(
        self, account_sid: str, flow_sid: str, execution_sid: str, *, ended: bool
    ) -> None:
        """Send the execution's live call back to the flow webhook for its next TwiML, or
        cancel the call it placed if it ``ended`` before that call was answered.

        Needed when the execution moved on without the call asking: a TwiML Redirect or a
        virtual agent timed out while the call was elsewhere, an SMS reply arrived while the
        caller was on hold, the execution was ended through the API.
        """
        with self.db.connect() as conn:
            call = call_store.call_of_execution(conn, execution_sid)
        if call is None:
            return
        if call.status == "in-progress":
            url = f"{self.webhook_url(account_sid, flow_sid)}?executionSid={execution_sid}"
            update, values = CallUpdate(account_sid, call.sid, url=url), {"url": url}
        elif ended and call.status in RINGING:
            update = CallUpdate(account_sid, call.sid, status="canceled")
            values = {"status": "canceled"}
        else:
            return
        outcome = await self.platform.update_call(update)
        if not outcome.ok:
            log.warning("call %s not updated for its flow: %s", call.sid, outcome.error)
            return
        values["date_updated"] = utcnow()
        await self.write(call_store.update_call, call.sid, values)

    async def _record(
        self,
        request: dict[str, Any],
        state: engine.ExecutionState,
        account_sid: str,
        unsaved: Sequence[tuple[str, dict[str, Any]]],
    ) -> Outcome:
        with self.db.connect() as conn:
            call = call_store.call_of_execution(conn, state.execution_sid)
            active = call_store.active_recording(conn, call.sid) if call is not None else None
        recording_sid = active.sid if active is not None else None
        for kind, row in unsaved:
            # A recording started (or stopped) earlier in this sprint is not stored yet.
            if kind == "recording" and call is not None and row["call_sid"] == call.sid:
                recording_sid = row["sid"]
            elif kind == "recording_update" and row["sid"] == recording_sid:
                recording_sid = None
        options = {k: v for k, v in request.items() if k != "record"}
        return await self.platform.record_call(
            RecordingRequest(
                account_sid=account_sid,
                execution_sid=state.execution_sid,
                call_sid=call.sid if call is not None else "",
                record=bool(request.get("record")),
                recording_sid=recording_sid,
                options=options,
            )
        )

    def _status_callback(self, account_sid: str, state: engine.ExecutionState) -> str | None:
        if not self.settings.public_url:
            return None
        base = self.settings.public_url.rstrip("/")
        webhook = f"{base}/v1/Accounts/{account_sid}/Flows/{state.flow_sid}"
        return f"{webhook}?executionSid={state.execution_sid}"

    async def complete(
        self,
        flow: engine.Flow,
        sprint: engine.Sprint,
        account_sid: str,
        env: engine.Environment,
        *,
        live: bool = False,
    ) -> tuple[engine.Sprint, list[engine.Step], list[tuple[str, dict[str, Any]]], list[Problem]]:
        """Answer every service call the engine asks for until it ends or waits.

        Voice widgets wait for the call to come back: ``live`` means a call's request waits
        for this sprint, so its TwiML goes out now; otherwise it goes out on the call's next
        fetch, and without any call the widget fails. Returns the last sprint, every step,
        the platform's records of what was sent, which the commit stores, and every error
        with the request behind it.
        """
        steps = list(sprint.steps)
        records: list[tuple[str, dict[str, Any]]] = []
        problems = [Problem(error) for error in sprint.errors]
        while (pending := sprint.pending) is not None:
            kind = pending.kind
            if kind == ANSWER or (
                kind == TWIML and (live or self.has_call(sprint.state.execution_sid))
            ):
                break
            code = None
            if kind == TWIML:
                result = engine.CallResult(ok=False, error=NO_CALL)
            else:
                outcome = await self.serve(pending, sprint.state, account_sid, records)
                records.extend(outcome.records)
                result = engine.CallResult(ok=outcome.ok, data=outcome.data, error=outcome.error)
                # A refusal of the platform's carries its own code (21211 for a bad To...).
                code = outcome.error_code if kind in PLATFORM_CALLS else None
            sprint = engine.resume(flow, sprint.state, result, env)
            steps.extend(sprint.steps)
            request = pending.request
            problems.extend(
                Problem(
                    error,
                    method=request.get("method"),
                    url=request.get("url"),
                    platform_code=code if error.widget == pending.widget else None,
                )
                for error in sprint.errors
            )
        return sprint, steps, records, problems
