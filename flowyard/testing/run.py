"""One execution driven in-process on a virtual clock: the heart of ``flowyard test``,
``flowyard chat`` and the Python helpers.

The pure engine runs the flow; service calls are answered here: messages, tasks and placed
calls by ``Stubs`` (the fake of Twilio the server's local platform uses too), HTTP and Functions
by ``Mocks``, voice verbs by a ``Phone``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowyard.engine import (
    CallResult,
    DeliveryFailure,
    Flow,
    Reply,
    ServiceCall,
    Sprint,
    Step,
    Timeout,
    Trigger,
    end,
    resume,
    start,
)
from flowyard.engine.conversation import conversation_of
from flowyard.engine.testing import (
    ACCOUNT_SID,
    VirtualClock,
    VirtualEnvironment,
    conversation_message,
    inbound_sms,
    message_body,
)
from flowyard.platform import Outcome, fake
from flowyard.platform import messaging_twiml as mtwiml

from .mocks import Mocks
from .phone import HANGUP, WAIT, Input, Phone
from .stubs import Stubs, fetch_call, fetcher

CONTACT = "+15550001111"  # the person the flow talks to
FLOW_NUMBER = "+15559990000"  # the flow's own number
CONVERSATION = "CH" + "c" * 32  # the Conversation a ``conversation`` trigger starts in
MAX_SERVICE_CALLS = 10_000


class ScriptError(AssertionError):
    """A scripted action that does not fit where the execution is (a reply while ended...)."""


@dataclass(frozen=True)
class Message:
    """An outbound message the flow sent."""

    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]
    widget: str


class FlowRun:
    """One execution: start it, then reply, press digits, advance the clock, and inspect."""

    def __init__(
        self,
        flow: Flow,
        *,
        mocks: Mocks | None = None,
        subflows: dict[str, Flow] | None = None,
        clock: VirtualClock | None = None,
        sources: Mapping[str, Path] | None = None,
        placed_calls: list[str] | None = None,
    ) -> None:
        self.flow = flow
        # How each call the flow places ends, in order (``fake.CALL_OUTCOMES``); answered by
        # a person once the list runs out.
        self.placed_calls = list(placed_calls or [])
        # The file each flow (by SID) was read from, for coverage.
        self.sources = dict(sources or {})
        self.env = VirtualEnvironment(clock=clock or VirtualClock(), subflows=subflows or {})
        self.clock = self.env.clock
        self.mocks = mocks or Mocks()
        self.stubs = Stubs(self.clock)
        self.steps: list[Step] = []
        self.errors: list[Any] = []
        self.sent: list[Message] = []
        self.calls: list[ServiceCall] = []
        self.heard: list[str] = []  # what callers heard, across calls
        # Steps, messages and sounds in the order they happened, for transcripts.
        self.timeline: list[tuple[str, Any]] = []
        self.phone: Phone | None = None
        self.sprint: Sprint | None = None

    # -- starting ----------------------------------------------------------------------------

    def start(self, event: str, payload: dict[str, Any]) -> FlowRun:
        sprint = start(self.flow, Trigger(event, payload), self.env)
        self._absorb(sprint)
        return self

    def rest(
        self,
        parameters: dict[str, Any] | None = None,
        *,
        to: str = CONTACT,
        from_: str = FLOW_NUMBER,
    ) -> FlowRun:
        """Start as the REST API does (``incomingRequest``); ``to`` is the contact."""
        return self.start(
            "incomingRequest", {"to": to, "from": from_, "parameters": parameters or {}}
        )

    def message(self, body: str, *, from_: str = CONTACT, to: str = FLOW_NUMBER) -> FlowRun:
        """Start with an inbound message (``incomingMessage``)."""
        return self.start("incomingMessage", inbound_sms(body, from_, to))

    def conversation(
        self, body: str, *, author: str = CONTACT, conversation_sid: str = CONVERSATION
    ) -> FlowRun:
        """Start with a message added to a Conversation (``incomingConversationMessage``):
        the flow's messages are then posted into that conversation."""
        index = self.stubs.conversation_index[conversation_sid]
        params = conversation_message(body, author, conversation_sid, index=index)
        self.stubs.heard(params)
        return self.start("incomingConversationMessage", params)

    def call(
        self,
        *,
        from_: str = CONTACT,
        to: str = FLOW_NUMBER,
        outcomes: dict[str, dict[str, str]] | None = None,
    ) -> FlowRun:
        """Start with an inbound call (``incomingCall``); the caller then hears the flow.
        ``outcomes`` override what Dial, Record, Enqueue, Pay and Connect report, per verb
        (``{"dial": {"DialCallStatus": "busy"}}``)."""
        self.phone = Phone.inbound(from_, to, ACCOUNT_SID, self.stubs.sids("CA"))
        self.phone.heard = self.heard
        self.phone.outcomes = dict(outcomes or {})
        return self.start("incomingCall", dict(self.phone.params))

    # -- what the contact does ---------------------------------------------------------------

    def reply(self, body: str) -> FlowRun:
        """The contact answers a Send & Wait For Reply."""
        if self.waiting_for != "reply":
            raise ScriptError(f"reply {body!r}: the execution is {self.where()}")
        flow = self.context["flow"]["channel"]["address"]
        contact = self.context["contact"]["channel"]["address"]
        conversation_sid = conversation_of(self.context)
        if conversation_sid:  # an answer in the conversation the execution talks in
            index = self.stubs.conversation_index[conversation_sid]
            params = conversation_message(body, contact, conversation_sid, index=index)
            self.stubs.heard(params)
            self._resume(Reply(params))
            return self
        self._resume(Reply(inbound_sms(body, contact, flow)))
        return self

    def digits(self, digits: str) -> FlowRun:
        """The caller presses keys at a gather."""
        return self._gather(Input("digits", str(digits)))

    def speech(self, text: str) -> FlowRun:
        """The caller says something at a gather."""
        return self._gather(Input("speech", text))

    def silence(self) -> FlowRun:
        """The caller says and presses nothing: the gather times out."""
        return self._gather(Input("silence"))

    def redirect_return(self, query: dict[str, str] | None = None) -> FlowRun:
        """The TwiML app a TwiML Redirect handed the call to redirects back
        (``FlowEvent=return``); its other query parameters become the widget's outputs."""
        pending = self.sprint.pending if self.sprint is not None else None
        if self.phone is None or self.phone.waiting != "redirect" or pending is None:
            raise ScriptError(f"redirect_return: no TwiML Redirect is out ({self.where()})")
        answer = self.phone.callback("return", {k: str(v) for k, v in (query or {}).items()})
        self.phone.call = None
        self._absorb(resume(self.flow, self.state, answer, self.env))
        return self

    def hangup(self) -> FlowRun:
        """The caller hangs up: the execution ends where it stands, as the server does."""
        if self.phone is None or not self.active:
            raise ScriptError(f"hangup: there is no live call ({self.where()})")
        self._absorb(end(self.state, self.env))
        self.phone = None
        return self

    def fail_delivery(self, status: str = "undelivered", error_code: str = "30003") -> FlowRun:
        """The last message sent comes back ``failed``/``undelivered``, with the status
        callback Twilio posts (``To``, ``From``, ``MessageSid``, ``SmsStatus``...)."""
        if not self.active:
            raise ScriptError(f"fail_delivery: the execution is {self.where()}")
        try:
            params = self.stubs.delivery_failure(self.state.execution_sid, status, error_code)
        except ValueError as exc:
            raise ScriptError(f"fail_delivery: {exc}") from None
        self._resume(DeliveryFailure(params))
        return self

    def advance(self, seconds: float) -> FlowRun:
        """Move the virtual clock, firing every timer that falls due on the way."""
        target = self.clock.now().timestamp() + float(seconds)
        while self.active:
            due = self._next_timer()
            if due is None or due > target:
                break
            self.clock.set(datetime.fromtimestamp(max(due, self.clock.now().timestamp()), UTC))
            before = self.sprint
            self._fire()
            if self.sprint is before:  # nothing could fire: do not spin
                break
        self.clock.set(datetime.fromtimestamp(target, UTC))
        return self

    # -- inspecting --------------------------------------------------------------------------

    @property
    def state(self) -> Any:
        if self.sprint is None:
            raise ScriptError("the execution has not started")
        return self.sprint.state

    @property
    def active(self) -> bool:
        return self.sprint is not None and self.state.active

    @property
    def status(self) -> str:
        """``active`` or ``ended``, as the Executions API reports it."""
        return self.state.status

    @property
    def context(self) -> dict[str, Any]:
        return self.state.context

    @property
    def variables(self) -> dict[str, Any]:
        return dict((self.context.get("flow") or {}).get("variables") or {})

    def widget(self, name: str) -> dict[str, Any]:
        """``widgets.<name>``: the outputs of a widget that ran."""
        return dict((self.context.get("widgets") or {}).get(name) or {})

    @property
    def path(self) -> list[str]:
        """Every widget entered, in order, from the trigger (``Ended`` is left out)."""
        if not self.steps:
            return []
        names = [self.steps[0].transitioned_from]
        names += [s.transitioned_to for s in self.steps if s.transitioned_to != "Ended"]
        return names

    @property
    def waiting_for(self) -> str | None:
        """``reply``, ``gather``, ``redirect``... or None when running nothing."""
        if not self.active:
            return None
        if self.sprint is not None and self.sprint.wait is not None:
            return self.sprint.wait.kind
        if self.phone is not None and self.phone.waiting:
            return self.phone.waiting
        return None

    def where(self) -> str:
        """A short human description of where the execution stands."""
        if self.sprint is None:
            return "not started"
        if not self.active:
            return f"ended ({self.state.ended_reason})"
        widget = self.state.parked_on
        return f"waiting for {self.waiting_for or 'nothing'} at {widget}"

    # -- driving the engine ------------------------------------------------------------------

    def _resume(self, resume_input: Any) -> None:
        if not self.active:
            raise ScriptError(f"the execution is {self.where()}")
        self._absorb(resume(self.flow, self.state, resume_input, self.env))

    def _gather(self, given: Input) -> FlowRun:
        phone = self.phone
        pending = self.sprint.pending if self.sprint is not None else None
        if phone is None or phone.waiting != "gather" or pending is None or not self.active:
            raise ScriptError(
                f"{given.kind} {given.value!r}: no gather is listening ({self.where()})"
            )
        self._voice(pending, given)
        return self

    def _voice(self, call: ServiceCall, given: Input | None = None) -> None:
        assert self.phone is not None
        heard = len(self.heard)
        answer = self.phone.answer(call, given)
        self.timeline += [("heard", text) for text in self.heard[heard:]]
        if call.request.get("handoff"):
            # A TwiML Redirect with timeout 0 handed the call over: the execution ends here.
            self.phone = None
            self._absorb(end(self.state, self.env))
            return
        if answer == WAIT:
            return
        if answer == HANGUP:
            self.phone = None
            self._absorb(end(self.state, self.env))
            return
        assert isinstance(answer, CallResult)
        self._absorb(resume(self.flow, self.state, answer, self.env))

    def _absorb(self, sprint: Sprint) -> None:
        """Record ``sprint`` and answer its service calls until the execution waits."""
        for _ in range(MAX_SERVICE_CALLS):
            self.steps.extend(sprint.steps)
            self.timeline += [("step", step) for step in sprint.steps]
            self.errors.extend(sprint.errors)
            self.sprint = sprint
            call = sprint.pending
            if call is None or not sprint.state.active:
                return
            if call.kind == "twiml":
                if self.phone is not None:
                    self._voice(call)
                    return
                result = CallResult(ok=False, error="no call is in progress for this execution")
            else:
                self.calls.append(call)
                result = self._serve(call)
            sprint = resume(self.flow, sprint.state, result, self.env)

    def _twiml_fetch(self, call: ServiceCall) -> CallResult:
        """A TwiML Redirect on a messaging execution: the widget's mocks answer each fetch,
        each ``<Message>`` is sent (and heard by the contact) like a Send Message."""
        answer = fetcher(lambda fetch: self.mocks(fetch_call(call.widget, fetch)))

        def step(item: mtwiml.Step) -> Outcome:
            if isinstance(item, mtwiml.Fetch):
                return answer(item)
            sent = self._serve(ServiceCall("message", call.widget, item.request()))
            return Outcome(sent.ok, sent.data, sent.error)

        outcome = mtwiml.drive(mtwiml.carry_out(call.request, ACCOUNT_SID), step)
        return CallResult(ok=outcome.ok, data=outcome.data, error=outcome.error)

    def _serve(self, call: ServiceCall) -> CallResult:
        if call.kind == "message":
            result = self.stubs.message(call, self.state.execution_sid)
            request = call.request
            if result.ok:
                message = Message(
                    to=str(request.get("to") or ""),
                    from_=str(request.get("from") or ""),
                    body=message_body(request),
                    media_urls=tuple(u for u in request.get("media_urls") or () if u),
                    widget=call.widget,
                )
                self.sent.append(message)
                self.timeline.append(("sent", message))
            return result
        if call.kind in ("http", "function"):
            return self.mocks(call)
        if call.kind == mtwiml.KIND:
            return self._twiml_fetch(call)
        if call.kind == "task":
            return self.stubs.task(call, self.state.execution_sid)
        if call.kind == "conversation":
            return self.stubs.conversation(call, self.state.execution_sid)
        if call.kind == "call":
            return self._place_call(call)
        if call.kind == "answer":
            return self._answer_placed()
        if call.kind == "recording":
            return CallResult(ok=True, data={"Sid": self.stubs.sids("RE"), "Status": "in-progress"})
        return CallResult(ok=False, error=f"unsupported service call {call.kind}")

    def _place_call(self, call: ServiceCall) -> CallResult:
        result = self.stubs.place_call(call, self.state.execution_sid)
        if result.ok and result.data is not None:
            to, from_ = result.data["To"], result.data["From"]
            self.phone = Phone.inbound(to, from_, ACCOUNT_SID, result.data["Sid"])
            self.phone.heard = self.heard
            self.phone.params |= {
                "Direction": "outbound-api",
                "From": from_,
                "To": to,
                "Called": to,
                "Caller": from_,
            }
        return result

    def _answer_placed(self) -> CallResult:
        """The placed call's next scripted outcome, as its first webhook (answered) or its
        status callback (busy, no answer, failed) reports it."""
        assert self.phone is not None
        outcome = self.placed_calls.pop(0) if self.placed_calls else "answered"
        params = fake.answered_params(outcome)
        result = self.phone.callback("", **params)
        if params["CallStatus"] != "in-progress":
            self.phone = None  # the call never connected
        else:  # every later request of the call carries how it was answered, as on the server
            self.phone.params |= {k: v for k, v in params.items() if k != "CallStatus"}
        return result

    def _next_timer(self) -> float | None:
        """When the next timer fires: the wait's, a TwiML Redirect's, or the 30-day expiry
        (which ends an execution waiting on a call too, as the server's timers do)."""
        sprint = self.sprint
        if sprint is None or not self.active:
            return None
        expires = sprint.state.expires_at
        if sprint.wait is not None:
            return sprint.wait.until
        pending = sprint.pending
        until = pending.request.get("timeout_at") if pending is not None else None
        if until is not None and pending is not None and pending.kind == "twiml":
            return min(float(until), expires) if expires is not None else float(until)
        return expires

    def _fire(self) -> None:
        sprint = self.sprint
        assert sprint is not None
        expires = sprint.state.expires_at
        if sprint.wait is None and expires is not None and self.clock.now().timestamp() >= expires:
            self.phone = None
            self._absorb(resume(self.flow, self.state, Timeout(), self.env))
        elif sprint.wait is not None:
            self._resume(Timeout())
        elif self.phone is not None:
            # A TwiML Redirect that never came back: its widget's ``timeout``.
            self.phone.call = None
            self._absorb(resume(self.flow, self.state, self.phone.callback("timeout"), self.env))
