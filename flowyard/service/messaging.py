"""Messages on the flow webhook: a contact's inbound message resumes the execution waiting for
its reply (or starts one on ``incomingMessage``); status callbacks record delivery and drive
``deliveryFailure``."""

from __future__ import annotations

import logging

import orjson

from flowyard import engine
from flowyard.errors import TwilioError
from flowyard.service.runtime import Runtime
from flowyard.sids import new_sid
from flowyard.store import executions as store
from flowyard.store import outbox, write
from flowyard.store.clock import utcnow

log = logging.getLogger("flowyard.runtime")

REPLY_WAITS = ("reply",)


class Messaging:
    """The messaging side of the flow webhook."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def inbound(self, account_sid: str, flow_sid: str, params: dict[str, str]) -> None:
        """A contact's message: resume its waiting execution, or start one."""
        contact, address = params.get("From", ""), params.get("To", "")
        now = utcnow()
        with write(self.runtime.db) as conn:
            outbox.insert_message(
                conn,
                {
                    "sid": params.get("MessageSid") or new_sid("SM"),
                    "account_sid": account_sid,
                    "execution_sid": None,
                    "direction": "inbound",
                    "from_": contact,
                    "to": address,
                    "body": params.get("Body", ""),
                    "media_urls": orjson.dumps(
                        [
                            params[f"MediaUrl{i}"]
                            for i in range(int(params.get("NumMedia") or 0))
                            if f"MediaUrl{i}" in params
                        ]
                    ).decode(),
                    "status": "received",
                    "messaging_service_sid": params.get("MessagingServiceSid"),
                    "num_segments": int(params.get("NumSegments") or 1),
                    "error_code": None,
                    "date_created": now,
                    "date_updated": now,
                },
            )
            active = store.find_active(conn, flow_sid, contact)
            if active is None:
                active = store.find_call_waiting_for_reply(conn, flow_sid, contact)
        if active is not None:
            if active.waiting_for in REPLY_WAITS:
                await self.runtime.resume(
                    active.sid, lambda _row: engine.Reply(params), expect_wait=REPLY_WAITS
                )
            else:
                # Studio drops a message for a contact whose execution is not waiting for one.
                log.info(
                    "message from %s dropped: execution %s is not waiting for a reply",
                    contact,
                    active.sid,
                )
            return
        try:
            await self.runtime.start(
                account_sid,
                flow_sid,
                engine.Trigger("incomingMessage", params),
                contact=contact,
                initiated_by=params.get("MessageSid"),
                return_existing=True,
            )
        except TwilioError as exc:
            log.warning("inbound message not started on %s: %s", flow_sid, exc.message)

    async def status(
        self, account_sid: str, params: dict[str, str], execution_sid: str | None
    ) -> None:
        """A status callback: record it; failed or undelivered resumes a waiting widget."""
        status = params.get("MessageStatus") or params.get("SmsStatus") or ""
        message_sid = params.get("MessageSid") or params.get("SmsSid") or ""
        with write(self.runtime.db) as conn:
            message = outbox.get_message(conn, account_sid, message_sid)
            if message is not None:
                code = params.get("ErrorCode")
                outbox.update_message_status(
                    conn,
                    message_sid,
                    status,
                    int(code) if code and code.isdigit() else None,
                    utcnow(),
                )
                execution_sid = execution_sid or message.execution_sid
        if status in ("failed", "undelivered") and execution_sid:
            await self.runtime.resume(
                execution_sid,
                lambda _row: engine.DeliveryFailure({**params, "executionSid": execution_sid}),
                expect_wait=REPLY_WAITS,
            )
