"""``Session``: one execution driven in process on the engine's own loop, its service calls
answered by ``Stubs`` (the shared fake of Twilio). Lower level than ``FlowRun``: the engine's
tests use it to drive widgets and inputs directly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flowyard.engine.io import DeliveryFailure, Reply, Sprint, Step, Timeout, Trigger
from flowyard.engine.model import Flow
from flowyard.engine.runner import resume, start
from flowyard.engine.services import run_until_wait
from flowyard.engine.state import ExecutionState
from flowyard.engine.testing import VirtualEnvironment, conversation_message, inbound_sms

from .stubs import Stubs

__all__ = ["Session", "Stubs"]


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

    def fail_delivery(
        self, status: str = "undelivered", error_code: str = "30003", **params: Any
    ) -> Sprint:
        """The last message sent comes back failed: Twilio's full status callback, with
        ``params`` over it."""
        callback = self.stubs.delivery_failure(self.state.execution_sid, status, error_code)
        return self.resume(DeliveryFailure({**callback, **params}))
