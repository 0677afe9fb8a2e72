"""The local adapter: nothing leaves the machine; the outbox, tasks and simulated calls live
in the database. What Twilio would accept and answer is ``fake``'s, shared with the in-process
test stubs."""

from __future__ import annotations

from flowyard.platform import (
    CallRequest,
    CallUpdate,
    ConversationMessageRequest,
    ConversationRequest,
    MessageRequest,
    Outcome,
    RecordingRequest,
    TaskRequest,
    fake,
    fake_conversations,
)
from flowyard.platform.calls import recording_outputs
from flowyard.sids import new_sid
from flowyard.store.clock import utcnow


class LocalPlatform:
    """Records what would have been sent, as Twilio would have accepted it."""

    name = "local"

    async def send_message(self, request: MessageRequest) -> Outcome:
        return fake.send_message(request, new_sid("SM"), utcnow())

    async def send_conversation_message(self, request: ConversationMessageRequest) -> Outcome:
        return fake.send_conversation_message(request, new_sid("IM"), utcnow())

    async def attach_conversation(self, request: ConversationRequest) -> Outcome:
        # Resumes answer from the host's record of the conversation (``request.known``).
        return fake_conversations.attach(request, new_sid, utcnow())

    async def detach_conversation(
        self, account_sid: str, service_sid: str | None, conversation_sid: str, webhook_sid: str
    ) -> Outcome:
        # The local webhook is only a record: the host clears it.
        return Outcome(True, {"Sid": webhook_sid})

    async def create_task(self, request: TaskRequest) -> Outcome:
        return fake.create_task(request, new_sid("WT"), utcnow())

    async def place_call(self, request: CallRequest) -> Outcome:
        # A simulated call waits queued until a test client (or the console) answers it.
        return fake.place_call(request, new_sid("CA"), utcnow())

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
