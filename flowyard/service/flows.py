"""Flow use cases: create, update, validate, read, delete, revisions and test users."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from flowyard.engine.references import property_path, subflow_references
from flowyard.engine.validate import validate_definition
from flowyard.errors import TwilioError, invalid_parameter, missing_parameter, not_found
from flowyard.sids import new_sid
from flowyard.store import flows as store
from flowyard.store import write
from flowyard.store.paging import Slice, Window

STATUSES = ("draft", "published")


def parse_definition(raw: str | None) -> Any:
    """Parse ``Definition``: a JSON string (Python SDK: spaced, \\u-escaped; Node: compact)."""
    if raw is None:
        raise missing_parameter("Definition")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_parameter("Definition", "must be a JSON object") from None


def _check_status(status: str | None) -> str:
    if status is None:
        raise missing_parameter("Status")
    if status not in STATUSES:
        raise invalid_parameter("Status", "must be draft or published")
    return status


def check_definition(definition: Any) -> list[dict[str, str]]:
    """Raise 81022 listing every problem; return the warnings of a valid definition."""
    report = validate_definition(definition)
    if report.errors:
        raise TwilioError(
            400, 81022, "Flow definition validation failed", {"errors": report.errors}
        )
    return report.warnings


def subflow_warnings(
    conn: sa.Connection | sa.Engine, account_sid: str, definition: Any, own_sid: str | None = None
) -> list[dict[str, str]]:
    """A warning for each ``run-subflow`` whose ``flow_sid`` names no flow of the account: the
    definition is valid (the flow may be created later), but the widget fails when it runs."""
    return [
        {
            "message": f"flow_sid {sid} names no flow in this account",
            "property_path": property_path(index),
        }
        for index, sid in subflow_references(definition)
        if sid != own_sid and store.flow_exists(conn, account_sid, sid) is None
    ]


def _revision_input(
    friendly_name: str,
    status: str,
    definition: Any,
    commit_message: str | None,
    author_sid: str | None,
    missing: list[dict[str, str]],
) -> store.RevisionInput:
    warnings = check_definition(definition) + missing
    return store.RevisionInput(
        friendly_name=friendly_name,
        status=status,
        definition=orjson.dumps(definition).decode(),
        commit_message=commit_message,
        author_sid=author_sid,
        valid=True,
        errors="[]",
        warnings=orjson.dumps(warnings).decode(),
    )


def create_flow(
    db: sa.Engine,
    account_sid: str,
    *,
    friendly_name: str | None,
    status: str | None,
    definition: str | None,
    commit_message: str | None = None,
    author_sid: str | None = None,
) -> Any:
    if friendly_name is None:
        raise missing_parameter("FriendlyName")
    status = _check_status(status)
    parsed = parse_definition(definition)
    sid = new_sid("FW")
    with write(db) as conn:
        data = _revision_input(
            friendly_name,
            status,
            parsed,
            commit_message,
            author_sid,
            subflow_warnings(conn, account_sid, parsed, sid),
        )
        return store.create_flow(conn, sid, account_sid, data)


def update_flow(
    db: sa.Engine,
    account_sid: str,
    sid: str,
    *,
    friendly_name: str | None,
    status: str | None,
    definition: str | None,
    commit_message: str | None = None,
    author_sid: str | None = None,
) -> Any:
    """Append a revision; omitted name or definition carry over from the latest revision."""
    status = _check_status(status)
    parsed = parse_definition(definition) if definition is not None else None
    with write(db) as conn:
        current = store.get_flow(conn, account_sid, sid)
        if current is None:
            raise not_found(f"/Flows/{sid}")
        if parsed is None:
            parsed = orjson.loads(current.definition)
        data = _revision_input(
            friendly_name if friendly_name is not None else current.friendly_name,
            status,
            parsed,
            commit_message,
            author_sid,
            subflow_warnings(conn, account_sid, parsed, sid),
        )
        store.add_revision(conn, sid, account_sid, data)
        return store.get_flow(conn, account_sid, sid)


def validate_flow(friendly_name: str | None, status: str | None, definition: str | None) -> None:
    """The checks of create, without storing anything."""
    if friendly_name is None:
        raise missing_parameter("FriendlyName")
    _check_status(status)
    check_definition(parse_definition(definition))


def get_flow(db: sa.Engine, account_sid: str, sid: str) -> Any:
    # One statement: the engine runs it standalone, without a transaction around it.
    row = store.get_flow(db, account_sid, sid)
    if row is None:
        raise not_found(f"/Flows/{sid}")
    return row


def require_flow(conn: sa.Connection | sa.Engine, account_sid: str, sid: str) -> Any:
    """The flow row without definition, or 20404."""
    row = store.flow_exists(conn, account_sid, sid)
    if row is None:
        raise not_found(f"/Flows/{sid}")
    return row


def list_flows(db: sa.Engine, account_sid: str, window: Window) -> Slice:
    return store.list_flows(db, account_sid, window)


def delete_flow(db: sa.Engine, account_sid: str, sid: str) -> None:
    with write(db) as conn:
        if not store.delete_flow(conn, account_sid, sid):
            raise not_found(f"/Flows/{sid}")


def resolve_revision(flow: Any, spec: str) -> int | None:
    """An integer, ``LatestRevision`` or ``LatestPublished`` (None: no such revision)."""
    if spec == "LatestRevision":
        return flow.revision
    if spec == "LatestPublished":
        return flow.published_revision
    if spec.isascii() and spec.isdigit():
        digits = spec.lstrip("0") or "0"
        # Revisions are 32-bit INTEGERs: a larger number names none (and would overflow SQL).
        return int(digits) if len(digits) <= 10 and int(digits) <= 2**31 - 1 else None
    raise TwilioError(400, 81021, "Revision must be an integer, LatestPublished or LatestRevision")


def get_revision(db: sa.Engine, account_sid: str, sid: str, spec: str) -> Any:
    with db.connect() as conn:
        flow = require_flow(conn, account_sid, sid)
        number = resolve_revision(flow, spec)
        row = store.get_revision(conn, sid, number) if number is not None else None
    if row is None:
        raise not_found(f"/Flows/{sid}/Revisions/{spec}")
    return row


def list_revisions(db: sa.Engine, account_sid: str, sid: str, window: Window) -> Slice:
    with db.connect() as conn:
        require_flow(conn, account_sid, sid)
        return store.list_revisions(conn, sid, window)


def get_test_users(db: sa.Engine, account_sid: str, sid: str) -> list[str]:
    return orjson.loads(require_flow(db, account_sid, sid).test_users)


def set_test_users(db: sa.Engine, account_sid: str, sid: str, users: list[str]) -> list[str]:
    if not users:
        raise missing_parameter("TestUsers")
    with write(db) as conn:
        require_flow(conn, account_sid, sid)
        store.set_test_users(conn, sid, orjson.dumps(users).decode())
    return users
