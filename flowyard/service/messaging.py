"""Messages on the flow webhook: a contact's inbound message resumes the execution waiting for
its reply (or starts one on ``incomingMessage``); a Conversations ``onMessageAdded`` does the
same for the conversation's execution (``incomingConversationMessage``); status callbacks
record delivery and drive ``deliveryFailure``.

Both are answered once durably accepted: the message and its resume are stored in one
transaction, and the flow runs after (``Runtime.drive``). A message Twilio posts again (its
``MessageSid`` is already stored) changes nothing. The flow webhook checked the parameters
first (``api.checks.webhook_params``: counts are small integers, strings bounded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard.engine import conversation
from flowyard.platform import fake_conversations
from flowyard.service import inputs
from flowyard.service.inputs import Item
from flowyard.service.runtime import Runtime
from flowyard.sids import new_sid
from flowyard.store import conversations, outbox
from flowyard.store import executions as store
from flowyard.store.clock import utcnow

log = logging.getLogger("flowyard.runtime")


class Messaging:
    """The messaging side of the flow webhook."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def inbound(self, account_sid: str, flow_sid: str, params: dict[str, str]) -> None:
        """A contact's message: stored, and given to its execution or to a new one."""
        message_sid = params.get("MessageSid") or new_sid("SM")
        await self._accept(account_sid, flow_sid, params, message_sid, _record_inbound)

    async def conversation(self, account_sid: str, flow_sid: str, params: dict[str, str]) -> None:
        """A message added to a conversation: stored, and given to the conversation's
        execution or to a new one. The flow's own posts come back as ``onMessageAdded`` too
        (their author is ``system``, or their SID is one it posted): those, and other events
        of the conversation, are not a contact speaking and change nothing."""
        message_sid = params.get("MessageSid") or new_sid("IM")
        event = params.get("EventType") or "onMessageAdded"
        if event != "onMessageAdded" or params.get("Author") == conversation.FLOW_AUTHOR:
            log.info("conversation %s: %s by %s ignored", params.get("ConversationSid"),
                     event, params.get("Author"))  # fmt: skip
            return
        await self._accept(account_sid, flow_sid, params, message_sid, _record_conversation_message)

    async def _accept(
        self,
        account_sid: str,
        flow_sid: str,
        params: dict[str, str],
        message_sid: str,
        record: Callable[[sa.Connection, str, str, dict[str, str]], bool],
    ) -> None:
        """Store the message once (``record`` is false for one seen before), route it in the
        same transaction, and drive its execution."""
        try:
            args = (account_sid, flow_sid, params, message_sid, record)
            target = await self.runtime.write(self._store, *args)
        except sa.exc.IntegrityError:  # the same message arrived twice at once
            log.info("message %s seen before: nothing to do", message_sid)
            return
        if target is not None:
            self.runtime.spawn(self.runtime.drive(*target))

    def _store(
        self,
        conn: sa.Connection,
        account_sid: str,
        flow_sid: str,
        params: dict[str, str],
        message_sid: str,
        record: Callable[[sa.Connection, str, str, dict[str, str]], bool],
    ) -> tuple[str, Any, list[Item] | None] | None:
        if not record(conn, account_sid, message_sid, params):
            log.info("message %s seen before: nothing to do", message_sid)
            return None
        return self.runtime.route_message(conn, account_sid, flow_sid, params)

    async def status(
        self, account_sid: str, flow_sid: str, params: dict[str, str], execution_sid: str | None
    ) -> None:
        """A status callback: record it; failed or undelivered resumes a waiting widget.

        Only a message or execution of the account and flow in the URL is touched: another
        account's SIDs are answered as Twilio answers them, with nothing done."""
        args = (account_sid, flow_sid, params, execution_sid)
        failed_sid = await self.runtime.write(self._record_status, *args)
        if failed_sid is not None:
            self.runtime.spawn(self.runtime.drive(failed_sid))

    def _record_status(
        self,
        conn: sa.Connection,
        account_sid: str,
        flow_sid: str,
        params: dict[str, str],
        execution_sid: str | None,
    ) -> str | None:
        """The status stored; the execution given a ``deliveryFailure`` to apply, if any."""
        status = params.get("MessageStatus") or params.get("SmsStatus") or ""
        message_sid = params.get("MessageSid") or params.get("SmsSid") or ""
        failed = status in ("failed", "undelivered")
        message = outbox.get_message(conn, account_sid, message_sid)
        if message is not None:
            code = params.get("ErrorCode")
            outbox.update_message_status(
                conn,
                message_sid,
                status,
                int(code) if code else None,
                utcnow(),
            )
            execution_sid = execution_sid or message.execution_sid
        if not failed or not execution_sid:
            return None
        execution = store.get_execution(conn, account_sid, flow_sid, execution_sid)
        if execution is None or execution.status != "active":
            return None
        payload = {"params": {**params, "executionSid": execution_sid}}
        self.runtime.enqueue(conn, execution_sid, inputs.FAILURE, payload)
        return execution_sid


def _record_inbound(
    conn: sa.Connection, account_sid: str, message_sid: str, params: dict[str, str]
) -> bool:
    """Store an inbound message; False if a message with its SID is already stored (Twilio
    posted it again, or it is another account's SID)."""
    if outbox.message_exists(conn, message_sid):
        return False
    now = utcnow()
    outbox.insert_message(
        conn,
        {
            "sid": message_sid,
            "account_sid": account_sid,
            "execution_sid": None,
            "direction": "inbound",
            "from_": params.get("From", ""),
            "to": params.get("To", ""),
            "body": params.get("Body", ""),
            "media_urls": orjson.dumps(_media(params)).decode(),
            "status": "received",
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "num_segments": int(params.get("NumSegments") or 1),
            "error_code": None,
            "date_created": now,
            "date_updated": now,
        },
    )
    return True


def _record_conversation_message(
    conn: sa.Connection, account_sid: str, message_sid: str, params: dict[str, str]
) -> bool:
    """Store a contact's message in its conversation; False if its SID is already stored
    (posted again, or one of the flow's own posts coming back)."""
    if conversations.message_exists(conn, message_sid):
        return False
    conversation_sid = params["ConversationSid"]
    index = params.get("Index") or ""
    now = utcnow()
    conversations.insert_message(
        conn,
        {
            "sid": message_sid,
            "account_sid": account_sid,
            "conversation_sid": conversation_sid,
            "execution_sid": None,
            "direction": "inbound",
            "index": int(index) if index.isdigit()
            else conversations.next_index(conn, account_sid, conversation_sid),
            "author": params.get("Author") or "",
            "participant_sid": params.get("ParticipantSid") or None,
            "body": params.get("Body") or "",
            "attributes": params.get("Attributes") or "{}",
            "source": params.get("Source") or None,
            "date_created": now,
            "date_updated": now,
        },
    )  # fmt: skip
    conversations.heard(conn, *fake_conversations.heard_rows(account_sid, params, now))
    return True


def _media(params: dict[str, Any]) -> list[str]:
    # Twilio numbers media 0..NumMedia-1 (the webhook refused anything but 0..10).
    count = int(params.get("NumMedia") or 0)
    return [params[f"MediaUrl{i}"] for i in range(count) if f"MediaUrl{i}" in params]
