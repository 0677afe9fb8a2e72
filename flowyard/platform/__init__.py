"""Ports to the outside world (messages, tasks, HTTP) and their adapters.

``local`` (default) keeps an outbox and tasks in the database, readable through Twilio's
Messages resource; ``twilio`` sends through the real APIs with the official package.
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

    async def create_task(self, request: TaskRequest) -> Outcome: ...
