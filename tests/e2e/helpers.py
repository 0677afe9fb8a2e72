"""Helpers for end-to-end tests: signed webhooks and polling.

A REST create, an inbound message and a status callback are answered once stored; the flow
runs after (as in Studio). A test that needs what the flow did polls for it, with a deadline:
``wait_ended``, ``wait_steps``, ``wait_messages``. Their deadlines are generous (a loaded CI
machine); they cost nothing when the flow is quick.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from twilio.request_validator import RequestValidator


def webhook_url(base: str, account_sid: str, flow_sid: str) -> str:
    return f"{base}/v1/Accounts/{account_sid}/Flows/{flow_sid}"


def post_signed(url: str, token: str, params: dict[str, str]) -> httpx.Response:
    """POST as Twilio does: form-encoded, with X-Twilio-Signature over URL and parameters."""
    signature = RequestValidator(token).compute_signature(url, params)
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def inbound_sms(frm: str, to: str, body: str, account_sid: str) -> dict[str, str]:
    sid = "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": account_sid,
        "From": frm,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def conversation_message(
    conversation_sid: str, author: str, body: str, account_sid: str, index: int = 0
) -> dict[str, str]:
    """An ``onMessageAdded`` webhook as the Conversations service posts it to a Studio flow."""
    return {
        "EventType": "onMessageAdded",
        "AccountSid": account_sid,
        "ChatServiceSid": "IS" + "0" * 32,
        "ConversationSid": conversation_sid,
        "MessageSid": "IM" + uuid.uuid4().hex,
        "ParticipantSid": "MB" + uuid.uuid5(uuid.NAMESPACE_URL, author).hex,
        "Author": author,
        "Body": body,
        "Index": str(index),
        "Source": "SMS",
        "Attributes": "{}",
        "DateCreated": "2026-01-15T17:00:00.000Z",
        "RetryCount": "0",
    }


def new_conversation_sid() -> str:
    return "CH" + uuid.uuid4().hex


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def wait_ended(client: Any, flow_sid: str, execution_sid: str, timeout: float = 30.0) -> Any:
    """The execution, fetched once it ended."""
    execution = client.studio.v2.flows(flow_sid).executions(execution_sid)

    def ended() -> Any:
        fetched = execution.fetch()
        return fetched if fetched.status == "ended" else None

    return wait_for(ended, timeout)


def wait_steps(
    client: Any, flow_sid: str, execution_sid: str, count: int, timeout: float = 30.0
) -> list[Any]:
    """The execution's steps, oldest first, once it has at least ``count`` of them (a sprint
    commits its steps with the context they led to)."""
    execution = client.studio.v2.flows(flow_sid).executions(execution_sid)

    def steps() -> list[Any] | None:
        listed = execution.steps.list()
        return list(reversed(listed)) if len(listed) >= count else None

    return wait_for(steps, timeout)


def wait_messages(client: Any, to: str, count: int, timeout: float = 30.0) -> list[Any]:
    """The messages to ``to``, newest first, once there are at least ``count`` of them."""

    def messages() -> list[Any] | None:
        listed = client.messages.list(to=to)
        return listed if len(listed) >= count else None

    return wait_for(messages, timeout)
