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
from flowyard.service import inputs
from flowyard.service.persistence import TWIML
from flowyard.service.runtime import Runtime
from flowyard.service.services import ENDED_CALL
from flowyard.sids import new_sid
from flowyard.store import calls as call_store
from flowyard.store import executions as store
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
    # The verbs hand the call over for good (TwiML Redirect, timeout 0): the execution ends.
    handoff: bool = False


HANGUP = VoiceAnswer("hangup")
EMPTY = VoiceAnswer("empty")
HOLD_SECONDS = 10
# Twilio gives a voice webhook 15 s; past this, the caller hears the current widget (or a
# hold) and comes back for what follows.
ANSWER_WITHIN = 12.0
# While the execution waits for something other than the call (an SMS reply, say), the
# caller stays on the line and Twilio comes back now and then to ask what is next; the
# runtime also redirects the call as soon as the execution moves on.
HOLD = [
    {"verb": "pause", "attrs": {"length": HOLD_SECONDS}},
    {"verb": "redirect", "event": "hold"},
]


def answer_for(row: Any | None) -> VoiceAnswer:
    """What the call hears now: the TwiML of the widget the execution waits in, a hold while
    it waits for something else, or a hang-up once it ended."""
    if row is None or row.status != "active":
        return HANGUP
    state = orjson.loads(row.engine_state)
    pending = inputs.pending_call(state)
    step = inputs.step_number(state)
    if pending is None:
        return VoiceAnswer("twiml", row.sid, HOLD, step)
    if pending.kind != TWIML:
        return HANGUP
    verbs = list(pending.request.get("verbs") or [])
    return VoiceAnswer("twiml", row.sid, verbs, step, bool(pending.request.get("handoff")))


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
        changed = _changes(call, params) if call is not None else None
        if changed:
            await self.runtime.write(call_store.update_call, call.sid, changed)
        if execution_sid is None:
            if status in ENDED_CALL:
                return EMPTY
            return await self._incoming(account_sid, flow_sid, params)
        if row is None or row.account_sid != account_sid or row.flow_sid != flow_sid:
            return EMPTY if status in ENDED_CALL else HANGUP
        if row.status != "active":
            return EMPTY if status in ENDED_CALL else HANGUP
        # Decided when its turn comes (inputs.decide): the execution may move on meanwhile.
        payload = {"params": dict(params), "query": dict(query)}
        row = await self.runtime.deliver(row.sid, inputs.VOICE, payload, wait=ANSWER_WITHIN)
        if status in ENDED_CALL and event is None:
            return EMPTY
        return await self._answered(answer_for(row))

    async def _answered(self, answer: VoiceAnswer) -> VoiceAnswer:
        """``answer`` goes to the call; one that hands the call over ends the execution."""
        if answer.handoff and answer.execution_sid is not None:
            await self.runtime.deliver(answer.execution_sid, inputs.END, {})
        return answer

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
            row, item = await self.runtime.start(
                account_sid,
                flow_sid,
                engine.Trigger("incomingCall", dict(params)),
                contact=contact,
                initiated_by=call_sid,
                call=call,
            )
        except TwilioError:
            return VoiceAnswer("unavailable")
        if item is None:
            if row.initiated_by == call_sid:  # Twilio asked again for a call already started
                return await self._answered(answer_for(row))
            # Studio: with concurrent calls off, a caller with an active execution is refused.
            return VoiceAnswer("unavailable")
        self.runtime.spawn(self.runtime.drive(row.sid, row, [item]))
        row = await self.runtime.wait_applied(row.sid, item.id, ANSWER_WITHIN)
        return await self._answered(answer_for(row))


def _changes(call: Any, params: dict[str, str]) -> dict[str, Any] | None:
    """What keeps the Calls resource in step with what Twilio reports; None when in step."""
    status = params.get("CallStatus") or call.status
    answered_by = params.get("AnsweredBy") or call.answered_by
    duration = params.get("CallDuration")
    if status == call.status and answered_by == call.answered_by and not duration:
        return None
    values: dict[str, Any] = {
        "status": status,
        "answered_by": answered_by,
        "date_updated": utcnow(),
    }
    if duration and duration.isdigit():
        values["duration"] = int(duration)
    return values
