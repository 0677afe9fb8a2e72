"""Ports to the outside world (messages, tasks, calls, recordings, HTTP) and their adapters.

``local`` (default) keeps an outbox, conversation posts and tasks in the database, readable
through Twilio's Messages and Conversations Message resources; ``twilio`` sends through the
real APIs with the official package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class MessageRequest:
    """A message a widget wants sent, fully rendered."""

    account_sid: str
    execution_sid: str
    to: str
    from_: str
    body: str
    media_urls: list[str] = field(default_factory=list)
    status_callback: str | None = None
    # A Content Template (HX...) and its variables: sent as ContentSid/ContentVariables.
    content_sid: str | None = None
    content_variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationMessageRequest:
    """A message a widget wants posted into a Conversation (an execution started by one).

    ``index`` is where the host's record of the conversation puts it (the local platform's
    answer; Twilio assigns its own)."""

    account_sid: str
    execution_sid: str
    conversation_sid: str
    author: str
    body: str
    attributes: str | None = None
    index: int = 0
    # The conversation's service when known (one outside the default service needs it).
    service_sid: str | None = None


@dataclass(frozen=True)
class ConversationRequest:
    """Start Conversation (``action="start"``: create one with ``participant``) or Resume
    Conversation (``"resume"``: attach to ``conversation_sid``) for an execution, with a
    webhook for ``filters`` to ``webhook_url`` so the conversation's messages reach the flow.

    ``known`` and ``known_participants`` are the host's record of the conversation to resume
    (the local platform answers from them; Twilio has its own)."""

    account_sid: str
    execution_sid: str
    action: str
    service_sid: str
    webhook_url: str
    filters: tuple[str, ...] = ("onMessageAdded",)
    conversation_sid: str = ""
    friendly_name: str = ""
    attributes: str = ""
    messaging_service_sid: str = ""
    timers: dict[str, str] = field(default_factory=dict)
    participant: dict[str, str] = field(default_factory=dict)
    known: Any = None
    known_participants: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TaskRequest:
    """A Flex/TaskRouter task a send-to-flex widget wants created."""

    account_sid: str
    execution_sid: str
    workflow_sid: str
    task_channel: str
    attributes: str
    priority: int | None = None
    timeout: int | None = None


@dataclass(frozen=True)
class CallRequest:
    """A call a make-outgoing-call widget wants placed; Twilio fetches ``url`` when answered."""

    account_sid: str
    execution_sid: str
    to: str
    from_: str
    url: str
    status_callback: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordingRequest:
    """Start (``record``) or stop recording a live call (record-call)."""

    account_sid: str
    execution_sid: str
    call_sid: str
    record: bool
    recording_sid: str | None = None  # the recording to stop, when the host knows it
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallUpdate:
    """Change a call through the Calls API: ``url`` sends a live call there for new TwiML,
    ``status="canceled"`` stops a call that is still ringing."""

    account_sid: str
    call_sid: str
    url: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What the outside world answered: resource fields (Studio's PascalCase) or an error.

    ``records`` are rows for the local record of what was sent (``("message", row)`` or
    ``("task", row)``): the host stores them in the transaction that commits the sprint.
    """

    ok: bool
    data: dict[str, Any] | None = None
    error: str | None = None
    error_code: int | None = None
    records: tuple[tuple[str, dict[str, Any]], ...] = ()


class Platform(Protocol):
    """The messaging and task port every adapter implements."""

    name: str

    async def send_message(self, request: MessageRequest) -> Outcome: ...

    async def send_conversation_message(self, request: ConversationMessageRequest) -> Outcome: ...

    async def attach_conversation(self, request: ConversationRequest) -> Outcome: ...

    async def detach_conversation(
        self, account_sid: str, service_sid: str | None, conversation_sid: str, webhook_sid: str
    ) -> Outcome: ...

    async def create_task(self, request: TaskRequest) -> Outcome: ...

    async def place_call(self, request: CallRequest) -> Outcome: ...

    async def record_call(self, request: RecordingRequest) -> Outcome: ...

    async def update_call(self, request: CallUpdate) -> Outcome: ...
