"""Start and Resume Conversation on the ``twilio`` platform: the Conversations API (official
package) in the widget's Conversation Service.

Start creates the Conversation, adds the participant and a conversation-scoped webhook to the
flow webhook (``onMessageAdded``); Resume fetches the Conversation, lists its participants,
replaces its attributes when given and adds the webhook for the widget's filters. Studio's own
webhook targets the Studio flow (``target=studio``); Flowyard's flow lives here, so the
webhook is a plain one to Flowyard's flow webhook URL (FLOWYARD_PUBLIC_URL), which Twilio
signs with the account's auth token. What was created is recorded locally too, so the flow
webhook finds the execution a conversation belongs to and the Conversations resource shows it.
"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from flowyard.platform import ConversationRequest, Outcome
from flowyard.platform.resources import attached_outputs
from flowyard.store.clock import utcnow

UNREACHABLE = 50000  # no Twilio answer at all: the widget fails, the execution goes on


async def attach_conversation(client: Client, request: ConversationRequest) -> Outcome:
    service = client.conversations.v1.services(request.service_sid)
    try:
        if request.action == "resume":
            return await _resume(service, request)
        return await _start(service, request)
    except TwilioRestException as exc:
        return Outcome(False, {}, exc.msg, exc.code)
    except Exception as exc:
        return Outcome(False, {}, f"Conversations API unreachable: {exc}", UNREACHABLE)


async def detach_conversation(
    client: Client, service_sid: str | None, conversation_sid: str, webhook_sid: str
) -> Outcome:
    """The execution ended: remove the webhook its widget registered, as Studio does."""
    api = client.conversations.v1
    scope = api.services(service_sid) if service_sid else api
    webhook = scope.conversations(conversation_sid).webhooks(webhook_sid)
    try:
        await _run(webhook.delete)
    except TwilioRestException as exc:
        if exc.status != 404:  # already gone is what was wanted
            return Outcome(False, {}, exc.msg, exc.code)
    except Exception as exc:
        return Outcome(False, {}, f"Conversations API unreachable: {exc}", UNREACHABLE)
    return Outcome(True, {"Sid": webhook_sid})


def _run(work: Any) -> Any:
    return anyio.to_thread.run_sync(work)


def _webhook_kwargs(request: ConversationRequest) -> dict[str, Any]:
    return {
        "target": "webhook",
        "configuration_url": request.webhook_url,
        "configuration_method": "POST",
        "configuration_filters": list(request.filters),
    }


async def _start(service: Any, request: ConversationRequest) -> Outcome:
    kwargs: dict[str, Any] = {}
    if request.friendly_name:
        kwargs["friendly_name"] = request.friendly_name
    if request.attributes:
        kwargs["attributes"] = request.attributes
    if request.messaging_service_sid:
        kwargs["messaging_service_sid"] = request.messaging_service_sid
    if request.timers.get("inactive"):
        kwargs["timers_inactive"] = request.timers["inactive"]
    if request.timers.get("closed"):
        kwargs["timers_closed"] = request.timers["closed"]
    created = await _run(lambda: service.conversations.create(**kwargs))
    conversation = service.conversations(created.sid)
    who = request.participant
    if who.get("identity"):
        member_kwargs = {"identity": who["identity"]}
    else:
        member_kwargs = {
            "messaging_binding_address": who.get("address"),
            "messaging_binding_proxy_address": who.get("proxy_address"),
        }
    member = await _run(lambda: conversation.participants.create(**member_kwargs))
    webhook = await _run(lambda: conversation.webhooks.create(**_webhook_kwargs(request)))
    row = _conversation_row(created, request, webhook.sid)
    participant = _participant_row(member, request.account_sid)
    return Outcome(
        True,
        attached_outputs(row, [participant], webhook.sid),
        records=(("conversation", row), ("conversation_participant", participant)),
    )


async def _resume(service: Any, request: ConversationRequest) -> Outcome:
    conversation = service.conversations(request.conversation_sid)
    if request.attributes:
        found = await _run(lambda: conversation.update(attributes=request.attributes))
    else:
        found = await _run(conversation.fetch)
    members = await _run(lambda: conversation.participants.list(limit=1000))
    webhook = await _run(lambda: conversation.webhooks.create(**_webhook_kwargs(request)))
    row = _conversation_row(found, request, webhook.sid)
    participants = [_participant_row(member, request.account_sid) for member in members]
    known = request.known is not None
    records: list[tuple[str, dict[str, Any]]] = [
        ("conversation_update" if known else "conversation", _update(row) if known else row)
    ]
    if not known:
        records += [("conversation_participant", p) for p in participants]
    return Outcome(True, attached_outputs(row, participants, webhook.sid), records=tuple(records))


def _update(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("account_sid", "sid", "chat_service_sid", "execution_sid", "webhook_sid",
            "attributes", "date_updated")  # fmt: skip
    return {key: row[key] for key in keys}


def _conversation_row(found: Any, request: ConversationRequest, webhook_sid: str) -> dict:
    now = utcnow()
    return {
        "sid": found.sid,
        "account_sid": request.account_sid,
        "chat_service_sid": found.chat_service_sid or request.service_sid,
        "messaging_service_sid": found.messaging_service_sid,
        "friendly_name": found.friendly_name,
        "attributes": found.attributes or "{}",
        "state": found.state or "active",
        "timers": orjson.dumps(found.timers or {}).decode(),
        "execution_sid": request.execution_sid,
        "webhook_sid": webhook_sid,
        "date_created": found.date_created.replace(tzinfo=None) if found.date_created else now,
        "date_updated": now,
    }


def _participant_row(member: Any, account_sid: str) -> dict[str, Any]:
    binding = member.messaging_binding or {}
    now = utcnow()
    return {
        "sid": member.sid,
        "account_sid": account_sid,
        "conversation_sid": member.conversation_sid,
        "identity": member.identity,
        "address": binding.get("address"),
        "proxy_address": binding.get("proxy_address"),
        "attributes": member.attributes or "{}",
        "date_created": member.date_created.replace(tzinfo=None) if member.date_created else now,
        "date_updated": now,
    }
