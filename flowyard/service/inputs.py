"""What waits in an execution's inbox, and what each kind does when its turn comes.

A resume is decided against the execution as it is when applied, not as it was when the
request arrived: another resume may have moved it on in between (two replies at once, a
reply racing a timer, a call's callback racing an SMS reply).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from flowyard import engine
from flowyard.service.persistence import ANSWER, TWIML
from flowyard.service.services import ENDED_CALL

START, REPLY, FAILURE, END, VOICE = "start", "reply", "failure", "end", "voice"
TIMER = "timer"  # not stored: an execution's ``wake_at`` coming due


@dataclass
class Item:
    """One resume; ``id`` is None for a timer."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    date: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> Item:
        return cls(row.kind, orjson.loads(row.payload), row.id, row.date_created)


@dataclass
class Decision:
    """``action``: ``start`` (``trigger``), ``resume`` (``input``), ``end``, ``ignore``
    (``reason``), or ``restart``: a reply for an execution that ended before its turn came,
    which Studio would have taken as the contact's next first message. ``live``: a call's
    request is waiting for this sprint's TwiML."""

    action: str
    input: Any = None
    reason: str = ""
    live: bool = False


def _state(row: Any) -> dict[str, Any]:
    return orjson.loads(row.engine_state)


def step_number(state: dict[str, Any]) -> int:
    """Which wait of the execution this is (its step count), for callback URLs."""
    return int(state.get("step_count") or 0)


def pending_call(state: dict[str, Any]) -> engine.ServiceCall | None:
    pending = state.get("pending")
    return engine.ServiceCall.from_json(pending) if pending else None


def voice_callback(
    event: str, params: dict[str, Any], query: dict[str, Any], request: dict[str, Any]
) -> engine.CallResult:
    """The resume a voice widget gets when Twilio comes back (see engine widgets/_voice.py)."""
    return engine.CallResult(
        ok=True,
        data={"callback": {"event": event, "params": params, "query": query, "request": request}},
    )


def decide(row: Any, item: Item, now: datetime) -> Decision:
    """What ``item`` does to the execution ``row`` at ``now``."""
    if item.kind == START:
        trigger = item.payload["trigger"]
        live = bool(item.payload.get("live"))
        return Decision(START, engine.Trigger(trigger["event"], trigger["payload"]), live=live)
    active = row.status == "active"
    if item.kind == REPLY:
        if not active:
            return Decision("restart")
        if row.waiting_for != "reply":
            # Studio drops a message for a contact whose execution is not waiting for one.
            return Decision("ignore", reason="the execution is not waiting for a reply")
        return Decision("resume", engine.Reply(item.payload["params"]))
    if not active:
        return Decision("ignore", reason="the execution has ended")
    if item.kind == FAILURE:
        if row.waiting_for != "reply":
            return Decision("ignore", reason="no widget waits for this message's delivery")
        return Decision("resume", engine.DeliveryFailure(item.payload["params"]))
    if item.kind == END:
        return Decision(END)
    if item.kind == TIMER:
        if row.wake_at is None or row.wake_at > now:
            return Decision("ignore", reason="the timer was moved")
        # A TwiML Redirect's timer is the widget's ``timeout`` callback, not a reply timeout
        # (unless the lifetime ran out first: the engine then ends the execution either way).
        if row.waiting_for == "redirect":
            return Decision("resume", voice_callback("timeout", {}, {}, {}))
        return Decision("resume", engine.Timeout())
    if item.kind == VOICE:
        return _voice(row, item.payload)
    return Decision("ignore", reason=f"unknown resume {item.kind}")


def _voice(row: Any, payload: dict[str, Any]) -> Decision:
    """A request on a call of this execution: Twilio came back for the next TwiML."""
    params, query = payload["params"], payload["query"]
    event = query.get("FlowEvent")
    state = _state(row)
    pending = pending_call(state)
    waits_answer = pending is not None and pending.kind == ANSWER
    request = pending.request if pending is not None else {}
    if params.get("CallStatus") in ENDED_CALL and event is None:
        # The call's status callback: a placed call that never answered tells its widget
        # why; any other execution ends with its call.
        if waits_answer:
            return Decision("resume", voice_callback("", params, query, request), live=True)
        return Decision(END)
    expects = request.get("expects") or []
    # A callback numbered for another visit (a gather that loops back to itself, say) is
    # stale; URLs built outside Flowyard (a TwiML Redirect's return) carry no number.
    current = query.get("step") in (None, str(step_number(state)))
    if waits_answer or (
        pending is not None and pending.kind == TWIML and event in expects and current
    ):
        return Decision("resume", voice_callback(event or "", params, query, request), live=True)
    # Anything else (a repeated fetch, a stale action) hears the current widget again.
    return Decision("ignore", reason="the call hears its current widget again")
