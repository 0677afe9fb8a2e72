"""The flow webhook, ``/v1/Accounts/{AccountSid}/Flows/{FlowSid}``.

Twilio posts inbound messages, Conversations ``onMessageAdded`` webhooks, message status
callbacks, calls, the callbacks of the TwiML it was answered with, and call status callbacks
here (calls: ``flowyard.service.voice``). Requests carry no API credentials: they are
authenticated by ``X-Twilio-Signature``, an HMAC keyed by the account's auth token over the
URL Twilio used and the posted parameters.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, NoReturn

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from flowyard.api import checks, rejections, twiml
from flowyard.api.requests import Params, form, query
from flowyard.engine import conversation
from flowyard.errors import TwilioError, not_found
from flowyard.service import alerts
from flowyard.service.messaging import Messaging
from flowyard.service.voice import Voice, VoiceAnswer
from flowyard.store import accounts as account_store
from flowyard.store import alerts as alert_store
from flowyard.store import events as event_store
from flowyard.store import flows as flow_store
from flowyard.store import receipts, write
from flowyard.store.clock import utcnow

EMPTY_TWIML = twiml.EMPTY
TEXT_XML = "text/xml"


def _signed_url(request: Request) -> str:
    """The URL Twilio signed: the public base when configured, else what this request hit."""
    public = request.app.state.settings.public_url
    url = str(request.url)
    if public:
        url = public.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
    return url


def _check_signature(request: Request, token: str, params: Params) -> None:
    if not request.app.state.settings.validate_signatures:
        return
    signature = request.headers.get("x-twilio-signature", "")
    body = params if request.method == "POST" else {}
    url = _signed_url(request)
    if not signature:
        _refuse(request, url, "missing")
    if not RequestValidator(token).validate(url, body, signature):
        _refuse(request, url, "mismatch")


# One alert per flow and interval for refused signatures: anyone who knows a flow's webhook
# URL can post to it, and must not be able to fill the alerts table.
ALERT_INTERVAL = 60.0
_last_refusal_alert: dict[tuple[str, str], float] = {}


def _refuse(request: Request, url: str, reason: str) -> NoReturn:
    """403, logged with its hint every time (``rejections.REASONS`` has ``reason``), alerted at
    most once an interval."""
    rejections.log_rejected(request, url, reason)
    account_sid = request.path_params["account"]
    flow_sid = request.path_params["flow"]
    now = time.monotonic()
    key = (account_sid, flow_sid)
    if now - _last_refusal_alert.get(key, -ALERT_INTERVAL) >= ALERT_INTERVAL:
        if len(_last_refusal_alert) > 10_000:
            _last_refusal_alert.clear()
        _last_refusal_alert[key] = now
        alert = alerts.signature_refused(account_sid, flow_sid, url, rejections.REASONS[reason])
        # Event Streams: its error event too, in the alert's transaction (it has no
        # execution, so no order to keep with one).
        events = request.app.state.runtime.subscribers.alert_rows(account_sid, [alert])
        with write(request.app.state.db) as conn:
            alert_store.insert_alerts(conn, [alert])
            event_store.insert_events(conn, events)
        alerts.log_rows([alert])
    raise TwilioError(403, 20003, "Invalid X-Twilio-Signature for this request")


async def flow_webhook(request: Request) -> Response:
    account_sid = request.path_params["account"]
    flow_sid = request.path_params["flow"]
    db = request.app.state.db
    # Standalone reads: one round trip each, no transaction around them.
    account = account_store.get_account(db, account_sid)
    flow = flow_store.flow_exists(db, account_sid, flow_sid) if account else None
    if account is None or flow is None:
        raise not_found(f"/Accounts/{account_sid}/Flows/{flow_sid}")
    params = await form(request) if request.method == "POST" else query(request)
    _check_signature(request, account.auth_token, params)
    values = checks.webhook_params(params.last_values())
    key = _replay_key(request, account_sid, values)
    if key is None:
        return await _answer(request, account_sid, flow_sid, values)
    # The receipt's writes are the runtime's: a replay arriving at once on another process
    # waits for the first one's insert, which must not hold this process's other requests.
    runtime = request.app.state.runtime
    first = await runtime.write(receipts.begin, key, account_sid, utcnow())
    if first is not None:
        return await _first_answer(db, key, first)
    try:
        response = await _answer(request, account_sid, flow_sid, values)
    except BaseException:
        # A retry of a request that failed is answered afresh.
        await runtime.write(receipts.forget, key)
        raise
    answer = (response.status_code, bytes(response.body).decode(), TEXT_XML)
    await runtime.write(receipts.finish, key, *answer)
    return response


def _replay_key(request: Request, account_sid: str, values: dict[str, str]) -> str | None:
    """What makes a request a replay of an earlier one: Twilio's idempotency token (its
    retries carry the first request's), else a status callback's message and status. An
    inbound message is recognised by its MessageSid when stored (``service.messaging``)."""
    token = request.headers.get("i-twilio-idempotency-token")
    if token:
        return f"{account_sid}:{token}"[:160]
    if "MessageStatus" in values:
        message = values.get("MessageSid", "")
        return f"{account_sid}:status:{message}:{values['MessageStatus']}"[:160]
    return None


async def _first_answer(db: Any, key: str, first: Any) -> Response:
    """The answer given to the first of two identical requests (waiting for it if needed)."""
    for _attempt in range(1500):  # up to ~15 s: Twilio's own limit for a webhook
        if first is not None and first.status is not None:
            return Response(first.body or "", first.status, media_type=first.content_type)
        await asyncio.sleep(0.01)
        with db.connect() as conn:
            first = receipts.get(conn, key)
    return Response(EMPTY_TWIML, media_type=TEXT_XML)


async def _answer(
    request: Request, account_sid: str, flow_sid: str, values: dict[str, str]
) -> Response:
    runtime = request.app.state.runtime
    if "MessageStatus" in values:
        await Messaging(runtime).status(
            account_sid, flow_sid, values, query(request).get("executionSid")
        )
        return Response(EMPTY_TWIML, media_type=TEXT_XML)
    if "CallSid" in values and "MessageSid" not in values:
        answer = await Voice(runtime).webhook(
            account_sid, flow_sid, values, query(request).last_values()
        )
        return Response(_render(request, account_sid, flow_sid, answer), media_type=TEXT_XML)
    if conversation.is_message(values):
        await Messaging(runtime).conversation(account_sid, flow_sid, values)
        return Response(EMPTY_TWIML, media_type=TEXT_XML)
    if "From" not in values:
        raise TwilioError(400, 20001, "Missing required parameter From in the post body")
    await Messaging(runtime).inbound(account_sid, flow_sid, values)
    return Response(EMPTY_TWIML, media_type=TEXT_XML)


def _render(request: Request, account_sid: str, flow_sid: str, answer: VoiceAnswer) -> str:
    base = request.app.state.settings.public_url or str(request.base_url)
    webhook = request.app.state.runtime.services.webhook_url(account_sid, flow_sid, base)
    return render_answer(answer, webhook)


def render_answer(answer: VoiceAnswer, webhook: str) -> str:
    """The TwiML document for ``answer``; its callbacks go to ``webhook``."""
    if answer.kind == "twiml" and answer.execution_sid:
        return twiml.render(answer.verbs, webhook, answer.execution_sid, answer.step)
    if answer.kind == "unavailable":
        return twiml.UNAVAILABLE
    return twiml.EMPTY if answer.kind == "empty" else twiml.HANGUP


routes = [
    Route("/v1/Accounts/{account}/Flows/{flow}", flow_webhook, methods=["GET", "POST"]),
]
