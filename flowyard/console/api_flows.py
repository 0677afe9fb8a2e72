"""The console's JSON API for flows, revisions, diffs and test users (service layer in-process)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api import checks
from flowyard.api.responses import JSON, no_content, raw_json, twilio_date
from flowyard.console import queries, session
from flowyard.engine.diff import diff_definitions
from flowyard.engine.validate import validate_definition
from flowyard.errors import TwilioError, invalid_parameter
from flowyard.service import flows as service
from flowyard.store.paging import Window

NEW_FLOW = {
    "description": "A New Flow",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [
                {"event": "incomingMessage"},
                {"event": "incomingCall"},
                {"event": "incomingConversationMessage"},
                {"event": "incomingRequest"},
                {"event": "incomingParent"},
            ],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}


async def body(request: Request) -> dict[str, Any]:
    """The JSON object a console call posted."""
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise invalid_parameter("body", "must be JSON") from None
    if not isinstance(data, dict):
        raise invalid_parameter("body", "must be a JSON object")
    return data


def after_key(request: Request) -> int | None:
    """The ``after`` paging key: a 32-bit row key, or None for the first page."""
    raw = request.query_params.get("after", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) <= 2**31 - 1:
        return int(raw)
    return None


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise invalid_parameter(name, "must be a string")


def _definition_text(data: dict[str, Any]) -> str | None:
    if "definition" not in data:
        return None
    return orjson.dumps(data["definition"]).decode()


def flow_json(row: Any, *, full: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {
        "sid": row.sid,
        "friendly_name": row.friendly_name,
        "status": row.status,
        "revision": row.revision,
        "published_revision": row.published_revision,
        "commit_message": row.commit_message,
        "date_created": twilio_date(row.date_created),
        "date_updated": twilio_date(row.date_updated),
    }
    if full:
        result["definition"] = raw_json(row.definition)
        result["errors"] = raw_json(row.errors)
        result["warnings"] = raw_json(row.warnings)
        result["test_users"] = raw_json(row.test_users)
        result["webhook_path"] = f"/v1/Accounts/{row.account_sid}/Flows/{row.sid}"
    return result


def revision_json(row: Any, *, definition: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {
        "revision": row.revision,
        "friendly_name": row.friendly_name,
        "status": row.status,
        "commit_message": row.commit_message,
        "author_sid": row.author_sid,
        "date_created": twilio_date(row.date_created),
    }
    if definition:
        result["definition"] = raw_json(row.definition)
    return result


async def list_flows(request: Request) -> Response:
    sess = session.require(request)
    db = request.app.state.db
    window = Window(size=200, after=after_key(request))
    result = service.list_flows(db, sess.account_sid, window)
    with db.connect() as conn:
        active = queries.active_counts(conn, sess.account_sid, (r.sid for r in result.rows))
    items = [
        {**flow_json(r, full=False), "active_executions": active.get(r.sid, 0)} for r in result.rows
    ]
    next_after = result.rows[-1].id if result.has_more and result.rows else None
    return JSON({"flows": items, "next": next_after})


async def create_flow(request: Request) -> Response:
    """Create (an empty flow) or import (a definition from a Studio export)."""
    sess = session.require(request)
    data = await body(request)
    definition = _definition_text(data) or orjson.dumps(NEW_FLOW).decode()
    checks.flow_fields(_text(data, "friendly_name"), _text(data, "commit_message"), definition)
    row = service.create_flow(
        request.app.state.db,
        sess.account_sid,
        friendly_name=_text(data, "friendly_name"),
        status=_text(data, "status") or "draft",
        definition=definition,
        commit_message=_text(data, "commit_message"),
        author_sid=sess.credential_sid,
    )
    return JSON(flow_json(row), 201)


async def fetch_flow(request: Request) -> Response:
    sess = session.require(request)
    row = service.get_flow(request.app.state.db, sess.account_sid, request.path_params["sid"])
    return JSON(flow_json(row))


async def delete_flow(request: Request) -> Response:
    sess = session.require(request)
    service.delete_flow(request.app.state.db, sess.account_sid, request.path_params["sid"])
    return no_content()


def _filename(name: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "flow") + ".json"


async def export_flow(request: Request) -> Response:
    """The latest definition as Studio exports it, as a download."""
    sess = session.require(request)
    row = service.get_flow(request.app.state.db, sess.account_sid, request.path_params["sid"])
    text = orjson.dumps(orjson.loads(row.definition), option=orjson.OPT_INDENT_2)
    disposition = f'attachment; filename="{_filename(row.friendly_name)}"'
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


async def validate(request: Request) -> Response:
    """The validator's report for a definition being edited (nothing is stored)."""
    sess = session.require(request)
    data = await body(request)
    definition = data.get("definition")
    report = validate_definition(definition)
    # As saving would store them: the subflows this account does not have.
    missing = service.subflow_warnings(request.app.state.db, sess.account_sid, definition)
    return JSON({"errors": report.errors, "warnings": report.warnings + missing})


async def save_revision(request: Request) -> Response:
    """A new revision (draft or published); invalid definitions come back as 81022."""
    sess = session.require(request)
    data = await body(request)
    definition = data.get("definition")
    checks.flow_fields(
        _text(data, "friendly_name"), _text(data, "commit_message"), _definition_text(data)
    )
    report = validate_definition(definition)
    if report.errors:
        raise TwilioError(
            400,
            81022,
            "Flow definition validation failed",
            {"errors": report.errors, "warnings": report.warnings},
        )
    row = service.update_flow(
        request.app.state.db,
        sess.account_sid,
        request.path_params["sid"],
        friendly_name=_text(data, "friendly_name"),
        status=_text(data, "status"),
        definition=_definition_text(data),
        commit_message=_text(data, "commit_message"),
        author_sid=sess.credential_sid,
    )
    return JSON(flow_json(row), 201)


async def list_revisions(request: Request) -> Response:
    sess = session.require(request)
    window = Window(size=200, after=after_key(request))
    result = service.list_revisions(
        request.app.state.db, sess.account_sid, request.path_params["sid"], window
    )
    next_after = result.rows[-1].revision if result.has_more and result.rows else None
    return JSON({"revisions": [revision_json(r) for r in result.rows], "next": next_after})


async def fetch_revision(request: Request) -> Response:
    sess = session.require(request)
    row = service.get_revision(
        request.app.state.db,
        sess.account_sid,
        request.path_params["sid"],
        request.path_params["revision"],
    )
    return JSON(revision_json(row, definition=True))


async def diff(request: Request) -> Response:
    """The widget-level diff between two revisions, ``?from=N&to=M``."""
    sess = session.require(request)
    db, sid = request.app.state.db, request.path_params["sid"]
    old = service.get_revision(
        db, sess.account_sid, sid, request.query_params.get("from", "LatestRevision")
    )
    new = service.get_revision(
        db, sess.account_sid, sid, request.query_params.get("to", "LatestRevision")
    )
    result = diff_definitions(orjson.loads(old.definition), orjson.loads(new.definition))
    return JSON({"from": old.revision, "to": new.revision, **result.as_dict()})


async def restore_revision(request: Request) -> Response:
    """Copy an old revision's name and definition into a new revision."""
    sess = session.require(request)
    data = await body(request)
    db, sid = request.app.state.db, request.path_params["sid"]
    old = service.get_revision(db, sess.account_sid, sid, request.path_params["revision"])
    row = service.update_flow(
        db,
        sess.account_sid,
        sid,
        friendly_name=old.friendly_name,
        status=_text(data, "status") or "draft",
        definition=old.definition,
        commit_message=_text(data, "commit_message") or f"Restored revision {old.revision}",
        author_sid=sess.credential_sid,
    )
    return JSON(flow_json(row), 201)


async def test_users(request: Request) -> Response:
    sess = session.require(request)
    db, sid = request.app.state.db, request.path_params["sid"]
    if request.method == "GET":
        return JSON({"test_users": service.get_test_users(db, sess.account_sid, sid)})
    users = (await body(request)).get("test_users")
    if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
        raise invalid_parameter("test_users", "must be a list of strings")
    cleaned = list(dict.fromkeys(u.strip() for u in users if u.strip()))
    return JSON({"test_users": service.set_test_users(db, sess.account_sid, sid, cleaned)})


routes = [
    Route("/console/api/flows", list_flows, methods=["GET"]),
    Route("/console/api/flows", create_flow, methods=["POST"]),
    Route("/console/api/validate", validate, methods=["POST"]),
    Route("/console/api/flows/{sid}", fetch_flow, methods=["GET"]),
    Route("/console/api/flows/{sid}", delete_flow, methods=["DELETE"]),
    Route("/console/api/flows/{sid}/export", export_flow, methods=["GET"]),
    Route("/console/api/flows/{sid}/revisions", list_revisions, methods=["GET"]),
    Route("/console/api/flows/{sid}/revisions", save_revision, methods=["POST"]),
    Route("/console/api/flows/{sid}/revisions/{revision}", fetch_revision, methods=["GET"]),
    Route(
        "/console/api/flows/{sid}/revisions/{revision}/restore",
        restore_revision,
        methods=["POST"],
    ),
    Route("/console/api/flows/{sid}/diff", diff, methods=["GET"]),
    Route("/console/api/flows/{sid}/test-users", test_users, methods=["GET", "PUT"]),
]
