"""Message resources (SMS and Conversations) in the two spellings Studio users meet.

Widget outputs use the PascalCase fields Studio stores (``widgets.x.outbound.Sid``); the
2010-04-01 REST resource uses snake_case and RFC 2822 dates.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import Any

import orjson


def _iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _rfc2822(value: Any) -> str | None:
    return format_datetime(value.replace(tzinfo=UTC)) if value is not None else None


def content_columns(request: Any) -> dict[str, Any]:
    """The outbox columns that keep a Content Template message's template and variables."""
    if not request.content_sid:
        return {"content_sid": None, "content_variables": None}
    variables = orjson.dumps(request.content_variables or {}).decode()
    return {"content_sid": request.content_sid, "content_variables": variables}


def message_outputs(row: Any) -> dict[str, Any]:
    """The ``outbound`` object of a send widget, as Studio records it."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    media = orjson.loads(get("media_urls") or "[]")
    account = get("account_sid")
    sid = get("sid")
    via_service = get("messaging_service_sid") is not None
    return {
        "Status": get("status"),
        "ErrorCode": get("error_code"),
        "Direction": get("direction"),
        "ErrorMessage": None,
        "From": None if via_service else get("from_"),
        "DateSent": None,
        "PriceUnit": None,
        "Price": None,
        "Sid": sid,
        "MessagingServiceSid": get("messaging_service_sid"),
        "Body": get("body"),
        "ApiVersion": "2010-04-01",
        "DateCreated": _iso(get("date_created")),
        "SubresourceUris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
        "To": get("to"),
        "NumMedia": str(len(media)),
        "AccountSid": account,
        "NumSegments": str(get("num_segments")),
        "DateUpdated": _iso(get("date_updated")),
    }


def message_resource(row: Any) -> dict[str, Any]:
    """The 2010-04-01 Message resource that ``client.messages.list()`` reads."""
    media = orjson.loads(row.media_urls or "[]")
    uri = f"/2010-04-01/Accounts/{row.account_sid}/Messages/{row.sid}"
    return {
        "account_sid": row.account_sid,
        "api_version": "2010-04-01",
        "body": row.body,
        "date_created": _rfc2822(row.date_created),
        "date_sent": _rfc2822(row.date_created),
        "date_updated": _rfc2822(row.date_updated),
        "direction": row.direction,
        "error_code": row.error_code,
        "error_message": None,
        "from": row.from_,
        "messaging_service_sid": row.messaging_service_sid,
        "num_media": str(len(media)),
        "num_segments": str(row.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": row.sid,
        "status": row.status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": row.to,
        "uri": f"{uri}.json",
    }


def conversation_message_outputs(row: Any) -> dict[str, Any]:
    """The ``outbound`` of a send widget that posted into a conversation: the Conversations
    Message resource in Studio's PascalCase."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {
        "Sid": get("sid"),
        "AccountSid": get("account_sid"),
        "ConversationSid": get("conversation_sid"),
        "Author": get("author"),
        "Body": get("body"),
        "Index": get("index"),
        "Attributes": get("attributes"),
        "Media": None,
        "ParticipantSid": get("participant_sid"),
        "DateCreated": _iso(get("date_created")),
        "DateUpdated": _iso(get("date_updated")),
    }


def conversation_message_resource(row: Any, base: str) -> dict[str, Any]:
    """The Conversations v1 Message resource (``conversations.v1.conversation_message``)."""
    url = f"{base}/v1/Conversations/{row.conversation_sid}/Messages/{row.sid}"
    return {
        "account_sid": row.account_sid,
        "conversation_sid": row.conversation_sid,
        "sid": row.sid,
        "index": row.index,
        "author": row.author,
        "body": row.body,
        "media": None,
        "attributes": row.attributes,
        "participant_sid": row.participant_sid,
        "date_created": _iso(row.date_created),
        "date_updated": _iso(row.date_updated),
        "url": url,
        # Delivery receipts are not simulated: Twilio reports none for chat-only messages.
        "delivery": None,
        "links": {
            "delivery_receipts": f"{url}/Receipts",
            "channel_metadata": f"{url}/ChannelMetadata",
        },
        "content_sid": None,
    }


def _get(row: Any) -> Any:
    return row.get if isinstance(row, dict) else row._mapping.get


def conversation_resource(row: Any, base: str, *, scoped: bool = False) -> dict[str, Any]:
    """The Conversations v1 Conversation resource (the service-scoped one when ``scoped``)."""
    get = _get(row)
    sid = get("sid")
    path = (
        f"/v1/Services/{get('chat_service_sid')}/Conversations" if scoped else "/v1/Conversations"
    )
    url = f"{base}{path}/{sid}"
    return {
        "account_sid": get("account_sid"),
        "chat_service_sid": get("chat_service_sid"),
        "messaging_service_sid": get("messaging_service_sid"),
        "sid": sid,
        "friendly_name": get("friendly_name"),
        "unique_name": None,
        "attributes": get("attributes") or "{}",
        "state": get("state"),
        "date_created": _iso(get("date_created")),
        "date_updated": _iso(get("date_updated")),
        "timers": orjson.loads(get("timers") or "{}"),
        "url": url,
        "links": {
            "participants": f"{url}/Participants",
            "messages": f"{url}/Messages",
            "webhooks": f"{url}/Webhooks",
        },
        "bindings": None,
    }


def participant_resource(
    row: Any, base: str, *, chat_service_sid: str | None = None
) -> dict[str, Any]:
    """The Conversations v1 Participant resource; service-scoped with ``chat_service_sid``."""
    get = _get(row)
    conversation = get("conversation_sid")
    scope = f"/v1/Services/{chat_service_sid}" if chat_service_sid else "/v1"
    address = get("address")
    resource = {
        "account_sid": get("account_sid"),
        "conversation_sid": conversation,
        "sid": get("sid"),
        "identity": get("identity"),
        "attributes": get("attributes") or "{}",
        "messaging_binding": (
            {"type": _binding_type(address), "address": address,
             "proxy_address": get("proxy_address")}
            if address else None
        ),
        "role_sid": None,
        "date_created": _iso(get("date_created")),
        "date_updated": _iso(get("date_updated")),
        "url": f"{base}{scope}/Conversations/{conversation}/Participants/{get('sid')}",
        "last_read_message_index": None,
        "last_read_timestamp": None,
    }  # fmt: skip
    if chat_service_sid:
        resource["chat_service_sid"] = chat_service_sid
    return resource


def _binding_type(address: str) -> str:
    return "whatsapp" if address.startswith("whatsapp:") else "sms"


def attached_outputs(
    conversation: Any, participants: list[Any], webhook_sid: str | None
) -> dict[str, Any]:
    """What Start/Resume Conversation record (``widgets.<name>``): the Conversation and its
    participants as the Conversations API answers them, null fields left out, and the
    ``onMessageAdded`` webhook's SID."""
    found = _non_null(conversation_resource(conversation, CONVERSATIONS_API))
    found["participants"] = [
        _non_null(participant_resource(row, CONVERSATIONS_API)) for row in participants
    ]
    return {"conversation": found, "webhook_sid": webhook_sid}


# The host the widgets' resource URLs name, wherever the conversation lives.
CONVERSATIONS_API = "https://conversations.twilio.com"


def _non_null(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if value is not None}
