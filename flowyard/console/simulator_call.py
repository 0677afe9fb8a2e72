"""The simulator's call panel: play Twilio's part in a call to a flow, in-process.

The console posts what Twilio would post for a call straight to ``Voice.webhook`` (no HTTP and
no signature: the session already says which account this is), renders each answer as TwiML
the way the flow webhook does, and follows it with the ``Caller`` of ``flowyard.testing.voice``
until a ``<Gather>`` waits for the person at the keyboard, or the call ends.

Nothing about a call is kept in memory: its row in the Calls resource says whose it is, and its
execution's current widget says what the caller is hearing. So any worker process can take the
next request, and only a session of the account that owns a call can drive it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.responses import JSON
from flowyard.api.webhook import render_answer
from flowyard.console import queries, session
from flowyard.console.api_flows import body
from flowyard.console.api_runs import execution_json, runtime_of
from flowyard.console.simulator import address_param, ensure_runnable
from flowyard.errors import TwilioError, invalid_parameter, not_found
from flowyard.service.services import ENDED_CALL
from flowyard.service.voice import Voice, VoiceAnswer, answer_for
from flowyard.sids import new_sid
from flowyard.store import calls as call_store
from flowyard.store import executions as execution_store
from flowyard.store.clock import utcnow
from flowyard.testing.caller import MAX_REQUESTS, SILENCE, Call, Caller, Outcomes, Speech
from flowyard.testing.caller import call_params as base_params

WAIT = "wait"  # a step of ``ConsoleCaller.next``: a gather waits for the person
HOLD = {"hold": True, "dtmf": False, "speech": False, "num_digits": None}
MAX_DIGITS = 40
MAX_SPEECH = 500
_DIGITS = re.compile(r"[0-9*#]+")


def webhook_path(account_sid: str, flow_sid: str) -> str:
    """The flow webhook, relative: anything absolute in the TwiML leaves the flow."""
    return f"/v1/Accounts/{account_sid}/Flows/{flow_sid}"


def gather_input(node: ET.Element) -> dict[str, Any]:
    """What a ``<Gather>`` listens for, as the panel needs it."""
    modes = (node.get("input") or "dtmf").split()
    digits = node.get("numDigits") or ""
    return {
        "dtmf": "dtmf" in modes,
        "speech": "speech" in modes,
        "num_digits": int(digits) if digits.isdigit() else None,
    }


def _holds(node: ET.Element) -> bool:
    return dict(parse_qsl(urlsplit((node.text or "").strip()).query)).get("FlowEvent") == "hold"


def _keys_as_twilio_sends(keys: str, node: ET.Element) -> str:
    # Twilio stops at numDigits and leaves the finishing key out of Digits.
    finish = node.get("finishOnKey", "#")
    if finish and finish in keys:
        keys = keys[: keys.index(finish)] or keys
    limit = node.get("numDigits") or ""
    return keys[: int(limit)] if limit.isdigit() and int(limit) > 0 else keys


class ConsoleCaller(Caller):
    """A ``Caller`` that stops at a gather with no answer queued, so a person can answer it,
    and keeps what the caller hears as typed lines for the transcript."""

    def __init__(
        self,
        call_sid: str,
        base: dict[str, str],
        answers: list[Any],
        *,
        replay: bool = False,
        held: bool = False,
    ) -> None:
        super().__init__(Call(call_sid), base, answers, Outcomes())
        self.lines: list[dict[str, str]] = []
        self.waiting: dict[str, Any] | None = None
        # An answer re-reads the widget's TwiML: what comes before the gather was heard already.
        self.quiet = replay
        self.held = held  # the transcript already says the call is on hold

    def hear(self, kind: str, text: str) -> None:
        if not self.quiet:
            self.lines.append({"kind": kind, "text": text})

    def _verb(self, url: str, node: ET.Element) -> Any:
        tag = node.tag
        if tag == "Say":
            self.hear("say", (node.text or "").strip())
            return None
        if tag == "Play":
            digits = node.get("digits")
            self.hear("digits", digits) if digits else self.hear("play", (node.text or "").strip())
            return None
        if tag == "Redirect" and _holds(node):
            # The execution waits for something else (an SMS reply): the panel asks again
            # later, as Twilio does after the hold's pause.
            if not self.held:
                self.hear("event", "[on hold: the flow waits, e.g. for an SMS reply]")
            self.waiting = HOLD
            return WAIT
        if tag == "Gather" and not self.answers:
            for child in node:
                self._verb(url, child)
            self.waiting = gather_input(node)
            return WAIT
        if tag == "Gather" and isinstance(self.answers[0], str):
            self.answers[0] = _keys_as_twilio_sends(self.answers[0], node)
        mark = len(self.call.heard)
        step = super()._verb(url, node)
        for text in self.call.heard[mark:]:  # Dial, Record, ...: the base class's words
            self.hear("event", text)
        if tag == "Gather":
            self.quiet = False
        return step


class CallLeg:
    """One request's worth of driving a call: post, render, follow, until a gather or the end."""

    def __init__(self, request: Request, account_sid: str, flow_sid: str) -> None:
        self.runtime = runtime_of(request)
        self.voice = Voice(self.runtime)
        self.account_sid = account_sid
        self.flow_sid = flow_sid
        self.webhook = webhook_path(account_sid, flow_sid)

    def render(self, answer: VoiceAnswer) -> str:
        return render_answer(answer, self.webhook)

    async def post(self, url: str, params: dict[str, str]) -> str | None:
        """Twilio's request to ``url``; None when the URL is not this flow's webhook."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or parts.path != self.webhook:
            return None
        query = dict(parse_qsl(parts.query))
        answer = await self.voice.webhook(self.account_sid, self.flow_sid, params, query)
        return self.render(answer)

    async def follow(self, caller: ConsoleCaller, step: Any) -> bool:
        """Follow ``step`` (a ``Caller.next`` result); True when the call ended."""
        for _ in range(MAX_REQUESTS):
            if step == WAIT:
                return False
            if step is None:
                break
            url, params = step
            answer = await self.post(url, params)
            if answer is None:
                caller.hear("event", f"[redirect to {url}: the simulator ends the call here]")
                break
            step = caller.next(url, answer)
        else:
            caller.hear("event", "[the flow kept redirecting: the simulator hung up]")
        await self.hang_up(caller.base, caller.call.call_sid)
        return True

    async def hang_up(self, base: dict[str, str], call_sid: str) -> None:
        """The call's final status callback: the execution ends with its call."""
        with self.runtime.db.connect() as conn:
            call = call_store.get_call(conn, call_sid)
        seconds = int((utcnow() - call.date_created).total_seconds()) if call else 0
        final = {**base, "CallStatus": "completed", "CallDuration": str(max(seconds, 0))}
        await self.voice.webhook(self.account_sid, self.flow_sid, final, {})

    async def result(self, call_sid: str, caller: ConsoleCaller | None, ended: bool) -> Response:
        with self.runtime.db.connect() as conn:
            call = call_store.get_account_call(conn, self.account_sid, call_sid)
        if call is not None and call.execution_sid:
            # What the flow did after the call's last answer (it may run on after it).
            await self.runtime.settle(call.execution_sid)
        with self.runtime.db.connect() as conn:
            execution = None
            if call is not None and call.execution_sid:
                execution = execution_store.get_execution(
                    conn, self.account_sid, self.flow_sid, call.execution_sid
                )
            step = queries.last_step(conn, self.account_sid, execution.sid) if execution else None
        current = None
        if execution is not None and execution.status == "active" and step is not None:
            current = step.transitioned_to
        return JSON(
            {
                "call_sid": call_sid,
                "lines": caller.lines if caller else [],
                "waiting": None if ended or caller is None else caller.waiting,
                "ended": ended,
                "execution": execution_json(execution) if execution else None,
                "current": current,
            }
        )


def _live_call(request: Request, account_sid: str) -> Any:
    """The path's call, if this account's and this flow's and not over."""
    flow_sid, call_sid = request.path_params["sid"], request.path_params["call_sid"]
    with request.app.state.db.connect() as conn:
        call = call_store.get_account_call(conn, account_sid, call_sid)
    if call is None or call.flow_sid != flow_sid:
        raise not_found(f"/Accounts/{account_sid}/Calls/{call_sid}")
    if call.status in ENDED_CALL:
        raise TwilioError(400, 21220, "Invalid call state: this call has ended")
    return call


def _base_of(call: Any) -> dict[str, str]:
    return base_params(call.account_sid, call.sid, call.from_, call.to, call.direction, None)


def _answer(data: dict[str, Any]) -> Any:
    """The person's answer: ``digits``, ``speech`` text, or ``silence`` (the gather times out)."""
    given = [k for k in ("digits", "speech", "silence") if data.get(k) not in (None, "", False)]
    if len(given) != 1:
        raise invalid_parameter("digits", "send one of digits, speech or silence")
    if given[0] == "silence":
        return SILENCE
    value = data[given[0]]
    if given[0] == "digits":
        if not isinstance(value, str) or len(value) > MAX_DIGITS or not _DIGITS.fullmatch(value):
            raise invalid_parameter("digits", f"must be 1 to {MAX_DIGITS} of 0-9, * and #")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SPEECH:
        raise invalid_parameter("speech", f"must be text of at most {MAX_SPEECH} characters")
    return Speech(value.strip())


def _waiting_gather(document: str) -> ET.Element:
    gather = next((n for n in ET.fromstring(document) if n.tag == "Gather"), None)
    if gather is None:
        raise TwilioError(400, 21220, "Invalid call state: the call is not waiting for input")
    return gather


async def start_call(request: Request) -> Response:
    """A call from ``from`` to the flow's number ``to``, followed until it waits or ends."""
    sess = session.require(request)
    data = await body(request)
    flow_sid = request.path_params["sid"]
    from_, to = address_param(data, "from"), address_param(data, "to")
    ensure_runnable(request, sess.account_sid, flow_sid, from_, bool(data.get("run_draft")))
    leg = CallLeg(request, sess.account_sid, flow_sid)
    call_sid = new_sid("CA")
    caller = ConsoleCaller(
        call_sid, base_params(sess.account_sid, call_sid, from_, to, "inbound", None), []
    )
    first = (leg.webhook, {**caller.params(), "CallStatus": "ringing"})
    ended = await leg.follow(caller, first)
    return await leg.result(call_sid, caller, ended)


async def gather(request: Request) -> Response:
    """The person answers the gather the call waits in: keys, words, or nothing."""
    sess = session.require(request)
    data = await body(request)
    call = _live_call(request, sess.account_sid)
    answer = _answer(data)
    leg = CallLeg(request, sess.account_sid, call.flow_sid)
    with leg.runtime.db.connect() as conn:
        row = execution_store.get_execution(
            conn, sess.account_sid, call.flow_sid, call.execution_sid or ""
        )
    if row is None or row.status != "active":
        # Ended elsewhere (the End button, a time-out): Twilio would now hear a hang-up.
        caller = ConsoleCaller(call.sid, _base_of(call), [])
        caller.hear("event", "[the execution has ended]")
        return await leg.result(call.sid, caller, await leg.follow(caller, None))
    document = leg.render(answer_for(row))
    modes = gather_input(_waiting_gather(document))
    if isinstance(answer, str) and not modes["dtmf"]:
        raise invalid_parameter("digits", "this gather listens for speech only")
    if isinstance(answer, Speech) and not modes["speech"]:
        raise invalid_parameter("speech", "this gather listens for keys only")
    caller = ConsoleCaller(call.sid, _base_of(call), [answer], replay=True)
    ended = await leg.follow(caller, caller.next(leg.webhook, document))
    return await leg.result(call.sid, caller, ended)


async def resume(request: Request) -> Response:
    """Ask the flow again for a call on hold, as Twilio does after the hold's pause."""
    sess = session.require(request)
    call = _live_call(request, sess.account_sid)
    leg = CallLeg(request, sess.account_sid, call.flow_sid)
    caller = ConsoleCaller(call.sid, _base_of(call), [], held=True)
    query = urlencode({"FlowEvent": "hold", "executionSid": call.execution_sid or ""})
    ended = await leg.follow(caller, (f"{leg.webhook}?{query}", caller.params()))
    return await leg.result(call.sid, caller, ended)


async def hangup(request: Request) -> Response:
    """The person hangs up: the status callback ends the call's execution."""
    sess = session.require(request)
    call = _live_call(request, sess.account_sid)
    leg = CallLeg(request, sess.account_sid, call.flow_sid)
    await leg.hang_up(_base_of(call), call.sid)
    return await leg.result(call.sid, None, True)


routes = [
    Route("/console/api/flows/{sid}/simulator/call", start_call, methods=["POST"]),
    Route("/console/api/flows/{sid}/simulator/call/{call_sid}/gather", gather, methods=["POST"]),
    Route("/console/api/flows/{sid}/simulator/call/{call_sid}/resume", resume, methods=["POST"]),
    Route("/console/api/flows/{sid}/simulator/call/{call_sid}/hangup", hangup, methods=["POST"]),
]
