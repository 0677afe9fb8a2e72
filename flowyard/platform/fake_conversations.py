"""The fake's Conversations API for Start and Resume Conversation: what Twilio refuses, the
records it would hold, and the answer the widgets turn into outputs. Pure, like ``fake``:
SIDs come from ``sid(prefix)``, the moment is passed in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from flowyard.platform import ConversationRequest, Outcome
from flowyard.platform.resources import attached_outputs

Sids = Callable[[str], str]

_SERVICE = re.compile(r"IS[0-9a-fA-F]{32}")
_MESSAGING_SERVICE = re.compile(r"MG[0-9a-fA-F]{32}")
# ISO 8601 durations as the Timers.* parameters take them (PT10M, P1D...).
_DURATION = re.compile(r"P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


def _refused(message: str, code: int) -> Outcome:
    return Outcome(False, {}, message, code)


def _attributes_problem(attributes: str) -> Outcome | None:
    try:
        orjson.loads(attributes)
    except orjson.JSONDecodeError:
        return _refused("Attributes must be a valid JSON string", 20001)
    return None


def attach(request: ConversationRequest, sid: Sids, now: datetime) -> Outcome:
    """Start or resume, as ``request.action`` says."""
    if not _SERVICE.fullmatch(request.service_sid):
        return _refused(f"The requested resource /Services/{request.service_sid} was not found",
                        20404)  # fmt: skip
    if request.attributes and (problem := _attributes_problem(request.attributes)):
        return problem
    if request.action == "resume":
        return _resume(request, sid, now)
    return _start(request, sid, now)


def _start(request: ConversationRequest, sid: Sids, now: datetime) -> Outcome:
    messaging = request.messaging_service_sid
    if messaging and not _MESSAGING_SERVICE.fullmatch(messaging):
        return _refused(f"Invalid MessagingServiceSid {messaging}", 20001)
    for key, duration in request.timers.items():
        if not _DURATION.fullmatch(duration):
            return _refused(f"Timers.{key.title()} {duration!r} is not an ISO 8601 duration",
                            20001)  # fmt: skip
    who = request.participant
    if not who.get("identity") and not who.get("address"):
        return _refused("A participant needs an Identity or a MessagingBinding.Address", 20001)
    if who.get("address") and not who.get("proxy_address"):
        return _refused("Participant proxy address is empty", 50412)
    if who.get("address") and who.get("address") == who.get("proxy_address"):
        return _refused("Participant address equals proxy address", 50409)
    conversation = {
        "sid": sid("CH"),
        "account_sid": request.account_sid,
        "chat_service_sid": request.service_sid,
        "messaging_service_sid": messaging or None,
        "friendly_name": request.friendly_name or None,
        "attributes": request.attributes or "{}",
        "state": "active",
        "timers": orjson.dumps(_timer_dates(request.timers)).decode(),
        "execution_sid": request.execution_sid,
        "webhook_sid": sid("WH"),
        "date_created": now,
        "date_updated": now,
    }
    participant = {
        "sid": sid("MB"),
        "account_sid": request.account_sid,
        "conversation_sid": conversation["sid"],
        "identity": who.get("identity") or None,
        "address": who.get("address") or None,
        "proxy_address": who.get("proxy_address") or None,
        "attributes": "{}",
        "date_created": now,
        "date_updated": now,
    }
    return Outcome(
        True,
        attached_outputs(conversation, [participant], conversation["webhook_sid"]),
        records=(("conversation", conversation), ("conversation_participant", participant)),
    )


def _timer_dates(timers: dict[str, str]) -> dict[str, str]:
    # Twilio answers the durations it was given as the dates they fall on; the fake keeps the
    # durations (readable, and no clock arithmetic on ISO 8601 periods).
    return {f"date_{key}": value for key, value in timers.items()}


def _resume(request: ConversationRequest, sid: Sids, now: datetime) -> Outcome:
    known = request.known
    missing = _refused(
        f"The requested resource /Services/{request.service_sid}/Conversations/"
        f"{request.conversation_sid} was not found",
        20404,
    )
    if known is None:
        return missing
    get = known.get if isinstance(known, dict) else known._mapping.get
    service = get("chat_service_sid")
    if service not in (None, request.service_sid) or get("state") == "closed":
        return missing
    conversation: dict[str, Any] = dict(known if isinstance(known, dict) else known._mapping)
    update = {
        "account_sid": request.account_sid,
        "sid": conversation["sid"],
        # Heard of on the webhook without its service: it is in the one the flow names.
        "chat_service_sid": request.service_sid,
        "execution_sid": request.execution_sid,
        "webhook_sid": sid("WH"),
        "attributes": request.attributes or conversation.get("attributes") or "{}",
        "date_updated": now,
    }
    conversation.update(update)
    outputs = attached_outputs(
        conversation, list(request.known_participants), update["webhook_sid"]
    )
    return Outcome(True, outputs, records=(("conversation_update", update),))


def heard_rows(
    account_sid: str, params: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The conversation and participant a contact's ``onMessageAdded`` tells of, as the
    record keeps them the first time they are heard of (what Resume Conversation and the
    Conversations resource then find): the server stores them, the test stubs keep them."""
    sid = str(params["ConversationSid"])
    conversation = {
        "sid": sid,
        "account_sid": account_sid,
        "chat_service_sid": params.get("ChatServiceSid") or None,
        "messaging_service_sid": params.get("MessagingServiceSid") or None,
        "friendly_name": None,
        "attributes": "{}",
        "state": "active",
        "timers": "{}",
        "execution_sid": None,
        "webhook_sid": None,
        "date_created": now,
        "date_updated": now,
    }
    member = str(params.get("ParticipantSid") or "")
    if not member:
        return conversation, None
    author = str(params.get("Author") or "")
    # An SMS/WhatsApp participant writes as its address, a chat one as its identity.
    phone = author.startswith(("+", "whatsapp:"))
    participant = {
        "sid": member,
        "account_sid": account_sid,
        "conversation_sid": sid,
        "identity": None if phone else author or None,
        "address": author if phone else None,
        "proxy_address": None,
        "attributes": "{}",
        "date_created": now,
        "date_updated": now,
    }
    return conversation, participant
