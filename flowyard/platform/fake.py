"""The one fake of Twilio: what Twilio accepts, refuses and answers, without I/O.

``LocalPlatform`` (``flowyard serve``) stores these records in the database; the in-process
stubs (``flowyard test``, ``flowyard chat``, ``flowyard.testing``) keep them in memory. Both
build every answer here, so a flow sees the same outputs and refusals wherever it runs. SIDs and
the moment are passed in: the server draws random SIDs on the wall clock, tests count them on a
virtual clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from flowyard.engine.widgets._messaging import content_preview
from flowyard.platform import (
    CallRequest,
    ConversationMessageRequest,
    ConversationRequest,
    MessageRequest,
    Outcome,
    TaskRequest,
)
from flowyard.platform.calls import call_outputs, placed_call_row
from flowyard.platform.resources import (
    content_columns,
    conversation_message_outputs,
    message_outputs,
)

# How a test (or the console) can end a placed call, and the CallStatus Twilio reports for it.
# "answered" is a person; "machine" an answering machine (AnsweredBy, with AMD on).
CALL_OUTCOMES = {
    "answered": ("in-progress", "human"),
    "human": ("in-progress", "human"),
    "machine": ("in-progress", "machine_start"),
    "busy": ("busy", None),
    "no-answer": ("no-answer", None),
    "noAnswer": ("no-answer", None),
    "failed": ("failed", None),
}


def refused(message: str, code: int) -> Outcome:
    return Outcome(False, {}, message, code)


def send_message(request: MessageRequest, sid: str, now: datetime) -> Outcome:
    """A Programmable Messaging send: refused as Twilio refuses it, or the queued message."""
    if not request.to:
        return refused("A 'To' phone number is required.", 21604)
    if not request.from_:
        return refused("A 'From' phone number is required.", 21603)
    if not request.body and not request.media_urls and not request.content_sid:
        return refused("Message body is required.", 21602)
    via_service = request.from_.startswith("MG")
    row = {
        "sid": sid,
        "account_sid": request.account_sid,
        "execution_sid": request.execution_sid,
        "direction": "outbound-api",
        "from_": request.from_,
        "to": request.to,
        # Twilio renders a template into the body; the fake has no templates to render.
        "body": request.body
        or (
            content_preview(request.content_sid, request.content_variables)
            if request.content_sid
            else ""
        ),
        "media_urls": orjson.dumps(request.media_urls).decode(),
        # Sent through a Messaging Service, Twilio first answers "accepted".
        "status": "accepted" if via_service else "queued",
        "messaging_service_sid": request.from_ if via_service else None,
        # Twilio counts segments only once a Messaging Service has picked a sender.
        "num_segments": 0 if via_service else 1,
        "error_code": None,
        **content_columns(request),
        "date_created": now,
        "date_updated": now,
    }
    return Outcome(True, message_outputs(row), records=(("message", row),))


def send_conversation_message(
    request: ConversationMessageRequest, sid: str, now: datetime
) -> Outcome:
    """A message posted into a Conversation at ``request.index``."""
    if not request.body:
        # The Conversations API refuses a message with neither body nor media.
        return refused("A message needs a body or media.", 20001)
    row = conversation_row(request, sid, now)
    return Outcome(
        True, conversation_message_outputs(row), records=(("conversation_message", row),)
    )


def conversation_row(request: ConversationMessageRequest, sid: str, now: datetime) -> dict:
    """The record of a message a flow posted into a conversation."""
    return {
        "sid": sid,
        "account_sid": request.account_sid,
        "conversation_sid": request.conversation_sid,
        "execution_sid": request.execution_sid,
        "direction": "outbound",
        "index": request.index,
        "author": request.author,
        "participant_sid": None,  # a system message has no participant
        "body": request.body,
        "attributes": request.attributes or "{}",
        "source": "API",
        "date_created": now,
        "date_updated": now,
    }


def create_task(request: TaskRequest, sid: str, now: datetime) -> Outcome:
    """A TaskRouter task (Send to Flex): attributes must be JSON, stored re-serialised."""
    try:
        attributes = orjson.loads(request.attributes or "{}")
    except orjson.JSONDecodeError:
        return refused("Task attributes are not valid JSON", 20001)
    row = {
        "sid": sid,
        "account_sid": request.account_sid,
        "execution_sid": request.execution_sid,
        "workflow_sid": request.workflow_sid,
        "task_channel": request.task_channel,
        "attributes": orjson.dumps(attributes).decode(),
        "priority": request.priority,
        "timeout": request.timeout,
        "status": "pending",
        "date_created": now,
    }
    return Outcome(True, task_outputs(row), records=(("task", row),))


def task_outputs(row: dict[str, Any]) -> dict[str, Any]:
    """Send to Flex's outputs on ``callComplete``: the task as TaskRouter answered it."""
    return {
        "sid": row["sid"],
        "attributes": row["attributes"],
        "workflow_sid": row["workflow_sid"],
        "task_channel_unique_name": row["task_channel"],
        "assignment_status": row["status"],
        "priority": row["priority"],
        "timeout": row["timeout"],
    }


def place_call(request: CallRequest, sid: str, now: datetime) -> Outcome:
    """An outbound call: queued until answered (or not) by whoever plays the callee."""
    if not request.to:
        return refused("A 'To' phone number is required.", 21201)
    if not request.from_:
        return refused("A 'From' phone number is required.", 21213)
    row = placed_call_row(request, sid, now)
    return Outcome(True, call_outputs(row), records=(("call", row),))


def call_outcome(outcome: str) -> tuple[str, str | None]:
    """``(CallStatus, AnsweredBy)`` of a scripted placed-call outcome."""
    try:
        return CALL_OUTCOMES[outcome]
    except KeyError:
        known = ", ".join(sorted(CALL_OUTCOMES))
        raise ValueError(f"unknown call outcome {outcome!r} (one of {known})") from None


def answered_params(outcome: str) -> dict[str, str]:
    """What a placed call's first webhook (answered) or status callback (not) adds to the
    call's parameters for a scripted ``outcome``."""
    status, answered_by = call_outcome(outcome)
    if answered_by is None:
        return {"CallStatus": status}
    return {"CallStatus": status, "AnsweredBy": answered_by, "MachineDetectionDuration": "3952"}


def delivery_callback(
    outbound: dict[str, Any],
    execution_sid: str,
    status: str = "undelivered",
    error_code: str = "30003",
) -> dict[str, str]:
    """The status callback Twilio posts when the message ``outbound`` (a send widget's
    output) fails, with the ``executionSid`` of the callback URL: Studio merges all of it
    into the widget's outputs."""
    sid = str(outbound.get("Sid") or "")
    params = {
        "ErrorCode": error_code,
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": str(outbound.get("To") or ""),
        "MessageSid": sid,
        "AccountSid": str(outbound.get("AccountSid") or ""),
        "From": str(outbound.get("From") or ""),
        "ApiVersion": "2010-04-01",
    }
    if outbound.get("MessagingServiceSid"):
        params["MessagingServiceSid"] = str(outbound["MessagingServiceSid"])
        # A Messaging Service has picked no sender the fake could name.
        params.pop("From")
    return {**params, "executionSid": execution_sid}


def message_request(
    request: dict[str, Any],
    account_sid: str,
    execution_sid: str,
    status_callback: str | None = None,
) -> MessageRequest:
    """A send widget's rendered request as the Messages API receives it."""
    return MessageRequest(
        account_sid=account_sid,
        execution_sid=execution_sid,
        to=request.get("to") or "",
        from_=request.get("from") or "",
        body=request.get("body") or "",
        media_urls=[u for u in request.get("media_urls") or [] if u],
        status_callback=status_callback,
        content_sid=request.get("content_sid") or None,
        content_variables=dict(request.get("content_variables") or {}),
    )


def task_request(request: dict[str, Any], account_sid: str, execution_sid: str) -> TaskRequest:
    """Send to Flex's rendered request as TaskRouter receives it."""
    return TaskRequest(
        account_sid=account_sid,
        execution_sid=execution_sid,
        workflow_sid=request.get("workflow_sid") or "",
        task_channel=request.get("channel") or "",
        attributes=request.get("attributes") or "{}",
        priority=request.get("priority"),
        timeout=request.get("timeout"),
    )


def conversation_request(
    request: dict[str, Any],
    account_sid: str,
    execution_sid: str,
    webhook_url: str,
    known: Any = None,
    known_participants: tuple[Any, ...] = (),
) -> ConversationRequest:
    """Start/Resume Conversation's rendered request as the Conversations API receives it."""
    return ConversationRequest(
        account_sid=account_sid,
        execution_sid=execution_sid,
        action=str(request.get("action") or "start"),
        service_sid=str(request.get("service_sid") or ""),
        webhook_url=webhook_url,
        filters=tuple(request.get("filters") or ("onMessageAdded",)),
        conversation_sid=str(request.get("conversation_sid") or ""),
        friendly_name=str(request.get("friendly_name") or ""),
        attributes=str(request.get("attributes") or ""),
        messaging_service_sid=str(request.get("messaging_service_sid") or ""),
        timers=dict(request.get("timers") or {}),
        participant=dict(request.get("participant") or {}),
        known=known,
        known_participants=known_participants,
    )
