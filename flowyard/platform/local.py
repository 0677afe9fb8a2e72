"""The local adapter: nothing leaves the machine; the outbox, tasks and simulated calls live
in the database."""

from __future__ import annotations

import orjson

from flowyard.engine.widgets._messaging import content_preview
from flowyard.platform import (
    CallRequest,
    CallUpdate,
    ConversationMessageRequest,
    MessageRequest,
    Outcome,
    RecordingRequest,
    TaskRequest,
)
from flowyard.platform.calls import call_outputs, recording_outputs
from flowyard.platform.resources import (
    content_columns,
    conversation_message_outputs,
    message_outputs,
)
from flowyard.sids import new_sid
from flowyard.store.clock import utcnow


class LocalPlatform:
    """Records what would have been sent, as Twilio would have accepted it."""

    name = "local"

    async def send_message(self, request: MessageRequest) -> Outcome:
        if not request.to:
            return Outcome(False, {}, "A 'To' phone number is required.", 21604)
        if not request.from_:
            return Outcome(False, {}, "A 'From' phone number is required.", 21603)
        if not request.body and not request.media_urls and not request.content_sid:
            return Outcome(False, {}, "Message body is required.", 21602)
        now = utcnow()
        via_service = request.from_.startswith("MG")
        row = {
            "sid": new_sid("SM"),
            "account_sid": request.account_sid,
            "execution_sid": request.execution_sid,
            "direction": "outbound-api",
            "from_": request.from_,
            "to": request.to,
            # Twilio renders a template into the body; the outbox has no templates to render.
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

    async def send_conversation_message(self, request: ConversationMessageRequest) -> Outcome:
        if not request.body:
            # The Conversations API refuses a message with neither body nor media.
            return Outcome(False, {}, "A message needs a body or media.", 20001)
        row = conversation_row(request, new_sid("IM"), request.index)
        return Outcome(
            True, conversation_message_outputs(row), records=(("conversation_message", row),)
        )

    async def create_task(self, request: TaskRequest) -> Outcome:
        try:
            attributes = orjson.loads(request.attributes or "{}")
        except orjson.JSONDecodeError:
            return Outcome(False, {}, "Task attributes are not valid JSON", 20001)
        now = utcnow()
        row = {
            "sid": new_sid("WT"),
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
        return Outcome(
            True,
            {
                "sid": row["sid"],
                "attributes": row["attributes"],
                "workflow_sid": row["workflow_sid"],
                "task_channel_unique_name": row["task_channel"],
                "assignment_status": "pending",
                "priority": row["priority"],
                "timeout": row["timeout"],
            },
            records=(("task", row),),
        )

    async def place_call(self, request: CallRequest) -> Outcome:
        if not request.to:
            return Outcome(False, {}, "A 'To' phone number is required.", 21201)
        if not request.from_:
            return Outcome(False, {}, "A 'From' phone number is required.", 21213)
        now = utcnow()
        row = {
            "sid": new_sid("CA"),
            "account_sid": request.account_sid,
            "flow_sid": None,
            "execution_sid": request.execution_sid,
            "direction": "outbound-api",
            "from_": request.from_,
            "to": request.to,
            # A simulated call waits here until a test client (or the console) answers it.
            "status": "queued",
            "answered_by": None,
            "url": request.url,
            "options": orjson.dumps(request.options).decode(),
            "duration": None,
            "date_created": now,
            "date_updated": now,
        }
        return Outcome(True, call_outputs(row), records=(("call", row),))

    async def record_call(self, request: RecordingRequest) -> Outcome:
        if not request.call_sid:
            return Outcome(False, {}, "No call is in progress to record", 21220)
        now = utcnow()
        if not request.record:
            if request.recording_sid is None:
                return Outcome(False, {}, "The call has no recording in progress", 21220)
            row = {"sid": request.recording_sid, "status": "stopped", "date_updated": now}
            data = {
                "Sid": request.recording_sid,
                "CallSid": request.call_sid,
                "AccountSid": request.account_sid,
                "Status": "stopped",
            }
            return Outcome(True, data, records=(("recording_update", row),))
        channels = request.options.get("channels")
        row = {
            "sid": new_sid("RE"),
            "account_sid": request.account_sid,
            "call_sid": request.call_sid,
            "execution_sid": request.execution_sid,
            "status": "in-progress",
            "channels": 2 if channels == "dual" else 1,
            "source": "StartCallRecordingAPI",
            "duration": None,
            "date_created": now,
            "date_updated": now,
        }
        return Outcome(True, recording_outputs(row), records=(("recording", row),))

    async def update_call(self, request: CallUpdate) -> Outcome:
        # A simulated call has no carrier to tell: the host keeps the new URL or status on
        # the call, where a test client or the console finds it.
        return Outcome(True, {"Sid": request.call_sid})


def conversation_row(request: ConversationMessageRequest, sid: str, index: int) -> dict:
    """The record of a message a flow posted into a conversation."""
    now = utcnow()
    return {
        "sid": sid,
        "account_sid": request.account_sid,
        "conversation_sid": request.conversation_sid,
        "execution_sid": request.execution_sid,
        "direction": "outbound",
        "index": index,
        "author": request.author,
        "participant_sid": None,  # a system message has no participant
        "body": request.body,
        "attributes": request.attributes or "{}",
        "source": "API",
        "date_created": now,
        "date_updated": now,
    }
