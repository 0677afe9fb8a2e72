"""Flows and their immutable revisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.clock import utcnow
from flowyard.store.paging import Slice, Window, read_window
from flowyard.store.tables import flow_revisions, flows


@dataclass(frozen=True)
class RevisionInput:
    """What a create or update writes; ``definition`` etc. are JSON text already."""

    friendly_name: str
    status: str
    definition: str
    commit_message: str | None
    author_sid: str | None
    valid: bool
    errors: str
    warnings: str


# Flow fetches read the flow row joined to its newest revision in one query.
_FLOW_WITH_LATEST = sa.select(
    flows.c.id,
    flows.c.sid,
    flows.c.account_sid,
    flows.c.published_revision,
    flows.c.test_users,
    flows.c.date_created,
    flow_revisions.c.revision,
    flow_revisions.c.author_sid,
    flow_revisions.c.friendly_name,
    flow_revisions.c.status,
    flow_revisions.c.definition,
    flow_revisions.c.commit_message,
    flow_revisions.c.valid,
    flow_revisions.c.errors,
    flow_revisions.c.warnings,
    flow_revisions.c.date_created.label("date_updated"),
).join(
    flow_revisions,
    sa.and_(
        flow_revisions.c.flow_sid == flows.c.sid, flow_revisions.c.revision == flows.c.revision
    ),
)


def _revision_values(
    flow_sid: str, account_sid: str, number: int, data: RevisionInput, now: datetime
) -> dict[str, Any]:
    return {
        "flow_sid": flow_sid,
        "revision": number,
        "account_sid": account_sid,
        "author_sid": data.author_sid,
        "friendly_name": data.friendly_name,
        "status": data.status,
        "definition": data.definition,
        "commit_message": data.commit_message,
        "valid": data.valid,
        "errors": data.errors,
        "warnings": data.warnings,
        "date_created": now,
        "date_updated": now,
    }


def create_flow(conn: sa.Connection, sid: str, account_sid: str, data: RevisionInput) -> None:
    """Insert a flow with its first revision."""
    now = utcnow()
    conn.execute(
        flows.insert().values(
            sid=sid,
            account_sid=account_sid,
            friendly_name=data.friendly_name,
            status=data.status,
            revision=1,
            published_revision=1 if data.status == "published" else None,
            commit_message=data.commit_message,
            date_created=now,
            date_updated=now,
        )
    )
    conn.execute(flow_revisions.insert().values(_revision_values(sid, account_sid, 1, data, now)))


def add_revision(conn: sa.Connection, sid: str, account_sid: str, data: RevisionInput) -> bool:
    """Append the next revision; False when the flow does not exist for this account."""
    now = utcnow()
    values: dict[str, Any] = {
        "revision": flows.c.revision + 1,
        "friendly_name": data.friendly_name,
        "status": data.status,
        "commit_message": data.commit_message,
        "date_updated": now,
    }
    if data.status == "published":
        values["published_revision"] = flows.c.revision + 1
    # Incrementing in the UPDATE itself keeps concurrent updates from sharing a number.
    number = conn.execute(
        flows.update()
        .where(flows.c.sid == sid, flows.c.account_sid == account_sid)
        .values(values)
        .returning(flows.c.revision)
    ).scalar()
    if number is None:
        return False
    conn.execute(
        flow_revisions.insert().values(_revision_values(sid, account_sid, number, data, now))
    )
    return True


def get_flow(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    """The flow joined to its latest revision, or None."""
    return conn.execute(
        _FLOW_WITH_LATEST.where(flows.c.sid == sid, flows.c.account_sid == account_sid)
    ).first()


_FLOW_SUMMARY = _FLOW_WITH_LATEST.with_only_columns(
    *(
        c
        for c in _FLOW_WITH_LATEST.selected_columns
        if c.name not in ("definition", "valid", "errors", "warnings")
    )
)


def list_flows(conn: sa.Connection, account_sid: str, window: Window) -> Slice:
    """A page of the account's flows, oldest first, without definitions."""
    return read_window(
        conn, _FLOW_SUMMARY.where(flows.c.account_sid == account_sid), flows.c.id, window
    )


def delete_flow(conn: sa.Connection, account_sid: str, sid: str) -> bool:
    """Delete a flow and (by cascade) its revisions; False when it was not there."""
    result = conn.execute(
        flows.delete().where(flows.c.sid == sid, flows.c.account_sid == account_sid)
    )
    return result.rowcount > 0


def flow_exists(conn: sa.Connection, account_sid: str, sid: str) -> Any | None:
    """The flow row (without definition) or None."""
    return conn.execute(
        sa.select(flows).where(flows.c.sid == sid, flows.c.account_sid == account_sid)
    ).first()


def get_revision(conn: sa.Connection, flow_sid: str, number: int) -> Any | None:
    return conn.execute(
        sa.select(flow_revisions).where(
            flow_revisions.c.flow_sid == flow_sid, flow_revisions.c.revision == number
        )
    ).first()


def list_revisions(conn: sa.Connection, flow_sid: str, window: Window) -> Slice:
    """A page of revisions, newest first."""
    query = sa.select(flow_revisions).where(flow_revisions.c.flow_sid == flow_sid)
    return read_window(conn, query, flow_revisions.c.revision, window, descending=True)


def set_test_users(conn: sa.Connection, flow_sid: str, test_users_json: str) -> None:
    conn.execute(flows.update().where(flows.c.sid == flow_sid).values(test_users=test_users_json))
