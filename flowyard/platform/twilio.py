"""The twilio adapter: real Messages, Conversations, Calls, Recordings and TaskRouter APIs
(official package).

The package is synchronous (requests), so each call runs in a worker thread. What is sent is
also recorded in the local outbox, so the Messages resource and the console show it.
"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from flowyard.config import Settings
from flowyard.platform import (
    CallRequest,
    CallUpdate,
    ConversationMessageRequest,
    ConversationRequest,
    MessageRequest,
    Outcome,
    RecordingRequest,
    TaskRequest,
)
from flowyard.platform.calls import call_outputs, placed_call_row
from flowyard.platform.fake import conversation_row
from flowyard.platform.resources import (
    content_columns,
    conversation_message_outputs,
    message_outputs,
)
from flowyard.platform.serverless import Serverless
from flowyard.platform.twilio_conversations import attach_conversation, detach_conversation
from flowyard.store.clock import utcnow


class TwilioPlatform:
    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError(
                "FLOWYARD_PLATFORM=twilio needs FLOWYARD_TWILIO_ACCOUNT_SID and "
                "FLOWYARD_TWILIO_AUTH_TOKEN"
            )
        self._client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
        if settings.twilio_api_url:
            # Tests (and proxies) point the SDK at another host.
            self._client.api.base_url = settings.twilio_api_url
            self._client.taskrouter.base_url = settings.twilio_api_url
            self._client.serverless.base_url = settings.twilio_api_url
            self._client.conversations.base_url = settings.twilio_api_url
        self._workspace = settings.twilio_workspace_sid
        self.serverless = Serverless(self._client)

    async def function_url(self, service_sid: str, environment_sid: str, function_sid: str) -> str:
        """A Run Function's URL from its SIDs (Serverless API, cached)."""
        return await self.serverless.url(service_sid, environment_sid, function_sid)

    async def send_message(self, request: MessageRequest) -> Outcome:
        kwargs: dict[str, Any] = {"to": request.to}
        if request.body or not request.content_sid:
            kwargs["body"] = request.body
        if request.content_sid:
            kwargs["content_sid"] = request.content_sid
            if request.content_variables:
                kwargs["content_variables"] = orjson.dumps(request.content_variables).decode()
        if request.from_.startswith("MG"):
            kwargs["messaging_service_sid"] = request.from_
        else:
            kwargs["from_"] = request.from_
        if request.media_urls:
            kwargs["media_url"] = request.media_urls
        if request.status_callback:
            kwargs["status_callback"] = request.status_callback
        try:
            message = await anyio.to_thread.run_sync(lambda: self._client.messages.create(**kwargs))
        except TwilioRestException as exc:
            return Outcome(False, {}, exc.msg, exc.code)
        except Exception as exc:  # network trouble: the widget fails, the execution goes on
            return Outcome(False, {}, f"Messages API unreachable: {exc}", 81011)
        now = utcnow()
        row = {
            "sid": message.sid,
            "account_sid": request.account_sid,
            "execution_sid": request.execution_sid,
            "direction": "outbound-api",
            "from_": message.from_ or request.from_,
            "to": message.to or request.to,
            "body": message.body if message.body is not None else request.body,
            "media_urls": orjson.dumps(request.media_urls).decode(),
            "status": message.status or "queued",
            "messaging_service_sid": message.messaging_service_sid,
            "num_segments": int(message.num_segments or 1),
            "error_code": message.error_code,
            **content_columns(request),
            "date_created": now,
            "date_updated": now,
        }
        return Outcome(True, message_outputs(row), records=(("message", row),))

    async def send_conversation_message(self, request: ConversationMessageRequest) -> Outcome:
        kwargs: dict[str, Any] = {"author": request.author, "body": request.body}
        if request.attributes:
            kwargs["attributes"] = request.attributes
        api = self._client.conversations.v1
        scope = api.services(request.service_sid) if request.service_sid else api
        messages = scope.conversations(request.conversation_sid).messages
        try:
            message = await anyio.to_thread.run_sync(lambda: messages.create(**kwargs))
        except TwilioRestException as exc:
            return Outcome(False, {}, exc.msg, exc.code)
        except Exception as exc:
            return Outcome(False, {}, f"Conversations API unreachable: {exc}", 81011)
        row = conversation_row(request, message.sid, utcnow())
        row["index"] = int(message.index or 0)
        if message.author:
            row["author"] = message.author
        if message.body is not None:
            row["body"] = message.body
        # Recorded too, so the local Conversations resource and the console show it.
        return Outcome(
            True, conversation_message_outputs(row), records=(("conversation_message", row),)
        )

    async def attach_conversation(self, request: ConversationRequest) -> Outcome:
        return await attach_conversation(self._client, request)

    async def detach_conversation(
        self, account_sid: str, service_sid: str | None, conversation_sid: str, webhook_sid: str
    ) -> Outcome:
        return await detach_conversation(self._client, service_sid, conversation_sid, webhook_sid)

    async def create_task(self, request: TaskRequest) -> Outcome:
        if not self._workspace:
            return Outcome(False, {}, "FLOWYARD_TWILIO_WORKSPACE_SID is not set", 20001)
        kwargs: dict[str, Any] = {
            "workflow_sid": request.workflow_sid,
            "attributes": request.attributes,
            "task_channel": request.task_channel,
        }
        if request.priority is not None:
            kwargs["priority"] = request.priority
        if request.timeout is not None:
            kwargs["timeout"] = request.timeout
        workspace = self._client.taskrouter.v1.workspaces(self._workspace)
        try:
            task = await anyio.to_thread.run_sync(lambda: workspace.tasks.create(**kwargs))
        except TwilioRestException as exc:
            return Outcome(False, {}, exc.msg, exc.code)
        except Exception as exc:
            return Outcome(False, {}, f"TaskRouter API unreachable: {exc}", 20500)
        return Outcome(
            True,
            {
                "sid": task.sid,
                "attributes": task.attributes,
                "workflow_sid": task.workflow_sid,
                "task_queue_sid": task.task_queue_sid,
                "assignment_status": task.assignment_status,
                "priority": task.priority,
                "timeout": task.timeout,
            },
        )

    async def place_call(self, request: CallRequest) -> Outcome:
        kwargs: dict[str, Any] = {
            "to": request.to,
            "from_": request.from_,
            "url": request.url,
            "method": "POST",
            "status_callback": request.status_callback,
            "status_callback_method": "POST",
        }
        kwargs.update({k: v for k, v in request.options.items() if v not in (None, "", False)})
        try:
            call = await anyio.to_thread.run_sync(lambda: self._client.calls.create(**kwargs))
        except TwilioRestException as exc:
            return Outcome(False, {}, exc.msg, exc.code)
        except Exception as exc:
            return Outcome(False, {}, f"Calls API unreachable: {exc}", 81012)
        row = placed_call_row(
            request,
            call.sid,
            utcnow(),
            direction=call.direction or "outbound-api",
            from_=call._from,
            to=call.to,
            status=call.status or "queued",
        )
        return Outcome(True, call_outputs(row), records=(("call", row),))

    async def record_call(self, request: RecordingRequest) -> Outcome:
        call = self._client.calls(request.call_sid)
        options = request.options
        try:
            if request.record:
                kwargs: dict[str, Any] = {}
                if options.get("status_callback"):
                    kwargs["recording_status_callback"] = options["status_callback"]
                if options.get("status_callback_method"):
                    kwargs["recording_status_callback_method"] = options["status_callback_method"]
                if options.get("status_callback_events"):
                    kwargs["recording_status_callback_event"] = options["status_callback_events"]
                if options.get("channels"):
                    kwargs["recording_channels"] = options["channels"]
                if options.get("trim"):
                    kwargs["trim"] = options["trim"]
                recording = await anyio.to_thread.run_sync(lambda: call.recordings.create(**kwargs))
            else:
                current = call.recordings(request.recording_sid or "Twilio.CURRENT")
                recording = await anyio.to_thread.run_sync(lambda: current.update(status="stopped"))
        except TwilioRestException as exc:
            return Outcome(False, {}, exc.msg, exc.code)
        except Exception as exc:
            return Outcome(False, {}, f"Recordings API unreachable: {exc}", 81030)
        return Outcome(
            True,
            {
                "Sid": recording.sid,
                "AccountSid": recording.account_sid,
                "CallSid": recording.call_sid,
                "Status": recording.status,
                "Channels": str(recording.channels or 1),
                "Source": recording.source,
                "Uri": recording.uri,
            },
        )

    async def update_call(self, request: CallUpdate) -> Outcome:
        call = self._client.calls(request.call_sid)
        if request.url:
            kwargs = {"url": request.url, "method": "POST"}
        else:
            kwargs = {"status": request.status}
        try:
            updated = await anyio.to_thread.run_sync(lambda: call.update(**kwargs))
        except TwilioRestException as exc:
            return Outcome(False, {}, exc.msg, exc.code)
        except Exception as exc:
            return Outcome(False, {}, f"Calls API unreachable: {exc}", 81012)
        return Outcome(True, {"Sid": updated.sid, "Status": updated.status})
