"""Calls on the flow webhook: start on ``incomingCall``, resume voice widgets with what Twilio
posts back, end executions whose call ended.

Every answer is a ``VoiceAnswer``: the verbs of the widget the execution now waits in (the
API layer renders them as TwiML), or a hang-up when the flow ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from flowyard import engine
from flowyard.errors import TwilioError
from flowyard.service.persistence import ANSWER, TWIML
from flowyard.service.runtime import Runtime, voice_callback
from flowyard.service.services import ENDED_CALL
from flowyard.sids import new_sid
from flowyard.store import calls as call_store
from flowyard.store import executions as store
from flowyard.store import write
from flowyard.store.clock import utcnow


@dataclass
class VoiceAnswer:
    """``kind``: ``twiml`` (``verbs`` of ``execution_sid``), ``hangup``, ``empty`` (a status
    callback: Twilio ignores the body) or ``unavailable`` (the caller's slot is taken).

    ``step`` numbers the wait the verbs belong to; it goes on their callback URLs so a
    callback meant for an earlier visit of the same widget is told apart."""

    kind: str
    execution_sid: str | None = None
    verbs: list[dict[str, Any]] = field(default_factory=list)
    step: int | None = None


HANGUP = VoiceAnswer("hangup")
EMPTY = VoiceAnswer("empty")
HOLD_SECONDS = 10
# While the execution waits for something other than the call (an SMS reply, say), the
# caller stays on the line and Twilio comes back now and then to ask what is next; the
# runtime also redirects the call as soon as the execution moves on.
HOLD = [
    {"verb": "pause", "attrs": {"length": HOLD_SECONDS}},
    {"verb": "redirect", "event": "hold"},
]


def _state(row: Any) -> dict[str, Any]:
    return orjson.loads(row.engine_state)


def _step(state: dict[str, Any]) -> int:
    """Which wait of the execution this is (its step count), for callback URLs."""
    return int(state.get("step_count") or 0)


def _pending(state: dict[str, Any]) -> engine.ServiceCall | None:
    pending = state.get("pending")
    return engine.ServiceCall.from_json(pending) if pending else None


def answer_for(row: Any | None) -> VoiceAnswer:
    """What the call hears now: the TwiML of the widget the execution waits in, a hold while
    it waits for something else, or a hang-up once it ended."""
    if row is None or row.status != "active":
        return HANGUP
    state = _state(row)
    pending = _pending(state)
    step = _step(state)
    if pending is None:
        return VoiceAnswer("twiml", row.sid, HOLD, step)
    if pending.kind != TWIML:
        return HANGUP
    return VoiceAnswer("twiml", row.sid, list(pending.request.get("verbs") or []), step)


class Voice:
    """The call side of the flow webhook."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def webhook(
        self, account_sid: str, flow_sid: str, params: dict[str, str], query: dict[str, str]
    ) -> VoiceAnswer:
        call_sid = params.get("CallSid", "")
        status = params.get("CallStatus", "")
        event = query.get("FlowEvent")
        execution_sid = query.get("executionSid")
        # A verb's callback on a live call changes nothing on the call itself: skip its row.
        routine = execution_sid is not None and event is not None and status == "in-progress"
        row = None
        with self.runtime.db.connect() as conn:
            call = call_store.get_call(conn, call_sid) if call_sid and not routine else None
            execution_sid = execution_sid or (call.execution_sid if call is not None else None)
            if execution_sid is not None:
                row = store.get_execution_by_sid(conn, execution_sid)
        if call is not None and call.account_sid != account_sid:
            # Another account's call: a signed request to this webhook must not touch it.
            return EMPTY if status in ENDED_CALL else HANGUP
        if call is not None:
            self._track(call, params)
        if execution_sid is None:
            if status in ENDED_CALL:
                return EMPTY
            return await self._incoming(account_sid, flow_sid, params)
        if row is None or row.account_sid != account_sid or row.flow_sid != flow_sid:
            return EMPTY if status in ENDED_CALL else HANGUP
        if row.status != "active":
            return EMPTY if status in ENDED_CALL else HANGUP
        state = _state(row)
        pending = _pending(state)
        if pending is None or pending.kind not in (ANSWER, TWIML):
            # A sprint of this execution may still be running here (a call answered before
            # the sprint that placed it committed): let it finish, then look again.
            async with self.runtime.lock(row.sid):
                pass
            with self.runtime.db.connect() as conn:
                row = store.get_execution_by_sid(conn, row.sid)
            if row is None or row.status != "active":
                return EMPTY if status in ENDED_CALL else HANGUP
            state = _state(row)
            pending = _pending(state)
        waits_answer = pending is not None and pending.kind == ANSWER
        if status in ENDED_CALL and event is None:
            # The call's status callback: a placed call that never answered tells its
            # widget why; any other execution ends with its call.
            if waits_answer:
                await self._feed(row.sid, "", params, query, pending)
            else:
                await self.runtime.resume(row.sid, lambda _row: None)
            return EMPTY
        expects = pending.request.get("expects") or [] if pending is not None else []
        # A callback numbered for another visit (a gather that loops back to itself, say)
        # is stale; URLs built outside Flowyard (a TwiML Redirect's return) carry no number.
        current = query.get("step") in (None, str(_step(state)))
        if waits_answer or (
            pending is not None and pending.kind == TWIML and event in expects and current
        ):
            row = await self._feed(row.sid, event or "", params, query, pending)
        # Anything else (a repeated fetch, a stale action) hears the current widget again.
        return answer_for(row)

    async def _feed(
        self,
        execution_sid: str,
        event: str,
        params: dict[str, str],
        query: dict[str, str],
        pending: engine.ServiceCall | None,
    ) -> Any:
        request = pending.request if pending is not None else {}
        result = voice_callback(event, dict(params), dict(query), request)
        return await self.runtime.resume(execution_sid, lambda _row: result, live=True)

    def _track(self, call: Any, params: dict[str, str]) -> None:
        """Keep the Calls resource in step with what Twilio reports."""
        status = params.get("CallStatus") or call.status
        answered_by = params.get("AnsweredBy") or call.answered_by
        duration = params.get("CallDuration")
        if status == call.status and answered_by == call.answered_by and not duration:
            return
        values: dict[str, Any] = {
            "status": status,
            "answered_by": answered_by,
            "date_updated": utcnow(),
        }
        if duration and duration.isdigit():
            values["duration"] = int(duration)
        with write(self.runtime.db) as conn:
            call_store.update_call(conn, call.sid, values)

    async def _incoming(
        self, account_sid: str, flow_sid: str, params: dict[str, str]
    ) -> VoiceAnswer:
        contact = params.get("From", "")
        call_sid = params.get("CallSid") or new_sid("CA")
        now = utcnow()
        call = {
            "sid": call_sid,
            "account_sid": account_sid,
            "flow_sid": flow_sid,
            "direction": params.get("Direction") or "inbound",
            "from_": contact,
            "to": params.get("To", ""),
            # Twilio answers the call with the TwiML this request returns.
            "status": "in-progress",
            "answered_by": params.get("AnsweredBy"),
            "url": None,
            "options": "{}",
            "duration": None,
            "date_created": now,
            "date_updated": now,
        }
        try:
            row = await self.runtime.start(
                account_sid,
                flow_sid,
                engine.Trigger("incomingCall", dict(params)),
                contact=contact,
                initiated_by=call_sid,
                return_existing=True,
                call=call,
            )
        except TwilioError:
            return VoiceAnswer("unavailable")
        if row.initiated_by != call_sid:
            # Studio: with concurrent calls off, a caller with an active execution is refused.
            return VoiceAnswer("unavailable")
        return answer_for(row)
