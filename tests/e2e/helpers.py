"""Helpers for end-to-end tests: signed webhooks and polling."""

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


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
