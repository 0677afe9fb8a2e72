"""Checks on what clients send, before any of it reaches the database or the engine.

PostgreSQL refuses NUL in text and strings longer than a ``VARCHAR`` column, and executions
of JSON nested hundreds of levels deep failed: each was a 500. Every limit is listed in README.md
(Security, Input limits); Twilio's own where it publishes one.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from flowyard.api.requests import Params
from flowyard.api.responses import JSON
from flowyard.errors import TwilioError, invalid_parameter, not_found

MAX_FRIENDLY_NAME = 64  # Twilio error 20002: FriendlyNames are 1 to 64 characters
MAX_COMMIT_MESSAGE = 4096
MAX_ADDRESS = 255  # To, From, TestUsers: the contact address columns
MAX_TEST_USERS = 1000
MAX_PARAMETERS = 64 * 1024  # bytes of the Parameters JSON
MAX_DEPTH = 64  # nesting of Parameters and Definition
MAX_STATE_NAME = 64  # a step records its widget's name in a 64-character column
MAX_ERRORS = 20  # problems listed in one 81022 answer

_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text(name: str, value: str | None, limit: int) -> str | None:
    """``value`` unchanged, or 20001 naming ``name`` when it holds NUL or is too long."""
    if value is None:
        return None
    if "\x00" in value:
        raise invalid_parameter(name, "must not contain NUL characters")
    if len(value) > limit:
        raise invalid_parameter(name, f"must be at most {limit} characters")
    return value


def sid(name: str, value: str | None) -> str | None:
    """A Twilio SID (two capitals and 32 hex digits), or 20001."""
    if value is not None and not _SID.fullmatch(value):
        raise invalid_parameter(name, "must be a 34-character SID")
    return value


def flow_params(params: Params) -> None:
    """Create, update and validate of a flow: its strings, and its definition (81022)."""
    sid("AuthorSid", params.get("AuthorSid"))
    flow_fields(params.get("FriendlyName"), params.get("CommitMessage"), params.get("Definition"))


def flow_fields(
    friendly_name: str | None, commit_message: str | None, definition_text: str | None
) -> None:
    """What a new revision stores, wherever it comes from (REST or the console)."""
    text("FriendlyName", friendly_name, MAX_FRIENDLY_NAME)
    text("CommitMessage", commit_message, MAX_COMMIT_MESSAGE)
    definition(definition_text)


def test_users(users: list[str]) -> list[str]:
    """TestUsers: contact addresses, as many as MAX_TEST_USERS."""
    if len(users) > MAX_TEST_USERS:
        raise invalid_parameter("TestUsers", f"must list at most {MAX_TEST_USERS} users")
    for user in users:
        text("TestUsers", user, MAX_ADDRESS)
    return users


def execution_params(params: Params) -> None:
    """``To``, ``From`` and ``Parameters`` of an execution create (v1 and v2)."""
    text("To", params.get("To"), MAX_ADDRESS)
    text("From", params.get("From"), MAX_ADDRESS)
    parameters(params.get("Parameters"))


def parameters(raw: str | None) -> None:
    """Parameters: at most MAX_PARAMETERS bytes, MAX_DEPTH deep, no NUL in keys or values.

    Text that is not a JSON object is left to the runtime, which names it.
    """
    if raw is None:
        return
    if len(raw) > MAX_PARAMETERS or len(raw.encode()) > MAX_PARAMETERS:
        raise invalid_parameter("Parameters", f"must be at most {MAX_PARAMETERS} bytes")
    if not _may_be_hostile(raw):
        return
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return
    problems = _walk(data)
    if problems:
        path, why = problems[0]
        raise invalid_parameter("Parameters", f"{why} at {path}")


def definition(raw: str | None) -> None:
    """Refuse with 81022 a definition holding NUL (in a key or a value), nested deeper than
    MAX_DEPTH, or with a state name longer than MAX_STATE_NAME. Text that is not JSON is
    left to the service, which names it."""
    if raw is None:
        return
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return
    problems = _walk(data) if _may_be_hostile(raw) else []
    states = data.get("states") if isinstance(data, dict) else None
    for index, state in enumerate(states if isinstance(states, list) else ()):
        name = state.get("name") if isinstance(state, dict) else None
        if isinstance(name, str) and len(name) > MAX_STATE_NAME:
            problems.append(
                (f"#/states/{index}/name", f"name: must be at most {MAX_STATE_NAME} characters")
            )
    if problems:
        errors = [{"message": why, "property_path": path} for path, why in problems]
        raise TwilioError(
            400, 81022, "Flow definition validation failed", {"errors": errors[:MAX_ERRORS]}
        )


def _may_be_hostile(raw: str) -> bool:
    """Whether decoded JSON could hold NUL or nest too deep: skips the walk for most texts."""
    return "\x00" in raw or "\\u0000" in raw or raw.count("{") + raw.count("[") > MAX_DEPTH


def _walk(data: Any) -> list[tuple[str, str]]:
    """(property path, problem) for NUL and excess depth, iteratively: depth is the threat."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(data, "#", 0)]
    while stack and len(problems) < MAX_ERRORS:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                problems.append((path, "must not contain NUL characters"))
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            problems.append((path, f"must not be nested more than {MAX_DEPTH} levels deep"))
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            child = f"{path}/{key}"
            if isinstance(key, str) and "\x00" in key:
                problems.append((child, "property names must not contain NUL characters"))
            stack.append((item, child, depth + 1))
    return sorted(problems)


# --- the flow webhook ----------------------------------------------------------------------

MAX_WEBHOOK_BYTES = 64 * 1024  # all names and values of one webhook request together
MAX_NUM_MEDIA = 10  # Twilio accepts at most 10 media per message
MAX_NUM_SEGMENTS = 100
_WEBHOOK_SIDS = (
    "AccountSid",
    "MessageSid",
    "SmsSid",
    "SmsMessageSid",
    "MessagingServiceSid",
    "CallSid",
    "ParentCallSid",
    "RecordingSid",
    "ConversationSid",
    "ParticipantSid",
    "ChatServiceSid",
)
_WEBHOOK_ADDRESSES = ("From", "To", "Caller", "Called", "ForwardedFrom", "Author")
_WEBHOOK_STATUSES = (
    "CallStatus",
    "MessageStatus",
    "SmsStatus",
    "AnsweredBy",
    "EventType",
    "Source",
)
_WEBHOOK_COUNTS = (
    "CallDuration",
    "RecordingDuration",
    "Duration",
    "ErrorCode",
    "Index",
    "RetryCount",
)


def webhook_params(values: dict[str, str]) -> dict[str, str]:
    """``values`` unchanged when Twilio could have sent them, else TwilioError 400 (20001).

    Refused: NUL in any name or value; more than MAX_WEBHOOK_BYTES of names and values;
    ``NumMedia`` other than an integer 0..10; ``NumSegments`` other than an integer
    0..MAX_NUM_SEGMENTS; a SID field (``AccountSid``, ``MessageSid``, ``CallSid``...) over 34
    characters; an address (``From``, ``To``, ``Caller``, ``Author``...) over 255; a status
    (``CallStatus``, ``MessageStatus``, ``AnsweredBy``, ``EventType``, ``Source``...) over 32; a
    duration, ``ErrorCode``, ``Index`` or ``RetryCount`` that is not an integer of at most 9
    digits (an empty value passes: "absent").
    """
    size = 0
    for name, value in values.items():
        if "\x00" in name or "\x00" in value:
            raise invalid_parameter(name.replace("\x00", ""), "must not contain NUL characters")
        size += len(name.encode()) + len(value.encode())
    if size > MAX_WEBHOOK_BYTES:
        raise TwilioError(400, 20001, f"Webhook parameters exceed {MAX_WEBHOOK_BYTES} bytes")
    _count(values, "NumMedia", MAX_NUM_MEDIA)
    _count(values, "NumSegments", MAX_NUM_SEGMENTS)
    for names, limit in ((_WEBHOOK_SIDS, 34), (_WEBHOOK_ADDRESSES, MAX_ADDRESS)):
        for name in names:
            text(name, values.get(name), limit)
    for name in _WEBHOOK_STATUSES:
        text(name, values.get(name), 32)
    for name in _WEBHOOK_COUNTS:
        _count(values, name, 999_999_999)
    return values


def _count(values: dict[str, str], name: str, maximum: int) -> None:
    value = values.get(name)
    if value and not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise invalid_parameter(name, f"must be an integer from 0 to {maximum}")
    if value and int(value) > maximum:
        raise invalid_parameter(name, f"must be an integer from 0 to {maximum}")


# --- paths -----------------------------------------------------------------------------------


class PathGuard:
    """A path holding a control character (``/v2/Flows/FW%00``) names nothing: 20404 before
    any handler looks it up (PostgreSQL would refuse the NUL with an error)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _CONTROL.search(scope["path"]):
            path = _CONTROL.sub("", scope["path"])
            for prefix in ("/v1", "/v2", "/2010-04-01"):
                path = path.removeprefix(prefix)
            response = JSON(not_found(path).body(), 404)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
