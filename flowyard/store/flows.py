"""Flows and their immutable revisions.

Every statement is built once, with ``sa.bindparam`` names for its values, and runs as a
prebuilt ``Statement`` (see ``flowyard.store.db``). Reads take a connection (they join its
transaction) or the engine (one standalone statement, for single-read requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flowyard.store.clock import utcnow
from flowyard.store.db import Statement
from flowyard.store.paging import Slice, Window, WindowedSelect
from flowyard.store.tables import flow_revisions, flows

Target = sa.Connection | sa.Engine


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

_FLOW_SUMMARY = _FLOW_WITH_LATEST.with_only_columns(
    *(
        c
        for c in _FLOW_WITH_LATEST.selected_columns
        if c.name not in ("definition", "valid", "errors", "warnings")
    )
)

_OWNED = (flows.c.sid == sa.bindparam("sid"), flows.c.account_sid == sa.bindparam("account_sid"))

_GET_FLOW = Statement(_FLOW_WITH_LATEST.where(*_OWNED), "Flow")
_LIST_FLOWS = WindowedSelect(
    _FLOW_SUMMARY.where(flows.c.account_sid == sa.bindparam("account_sid")), flows.c.id
)
_FLOW_ROW = Statement(sa.select(flows).where(*_OWNED), "FlowRow")
_GET_REVISION = Statement(
    sa.select(flow_revisions).where(
        flow_revisions.c.flow_sid == sa.bindparam("flow_sid"),
        flow_revisions.c.revision == sa.bindparam("revision"),
    ),
    "Revision",
)
_LIST_REVISIONS = WindowedSelect(
    sa.select(flow_revisions).where(flow_revisions.c.flow_sid == sa.bindparam("flow_sid")),
    flow_revisions.c.revision,
    descending=True,
)


def _bound(table: sa.Table, names: tuple[str, ...]) -> dict[str, Any]:
    """``{column: bindparam}``: INSERT/UPDATE values bound under the column's own name."""
    return {name: sa.bindparam(name, type_=table.c[name].type) for name in names}


_FLOW_VALUES = ("friendly_name", "status", "commit_message", "date_updated")
_REVISION_VALUES = (
    "flow_sid",
    "revision",
    "account_sid",
    "author_sid",
    "friendly_name",
    "status",
    "definition",
    "commit_message",
    "valid",
    "errors",
    "warnings",
    "date_created",
    "date_updated",
)
_INSERT_FLOW = Statement(
    flows.insert()
    .values(
        _bound(
            flows,
            ("sid", "account_sid", "revision", "published_revision", "date_created", *_FLOW_VALUES),
        )
    )
    .returning(flows.c.id, flows.c.test_users)
)
_INSERT_REVISION = Statement(
    flow_revisions.insert().values(_bound(flow_revisions, _REVISION_VALUES))
)
# Incrementing in the UPDATE itself keeps concurrent updates from sharing a number.
_NEXT_REVISION = {
    published: Statement(
        flows.update()
        .where(*_OWNED)
        .values(
            revision=flows.c.revision + 1,
            **({"published_revision": flows.c.revision + 1} if published else {}),
            **_bound(flows, _FLOW_VALUES),
        )
        .returning(flows.c.revision)
    )
    for published in (False, True)
}
_DELETE_FLOW = Statement(flows.delete().where(*_OWNED))
_SET_TEST_USERS = Statement(
    flows.update().where(flows.c.sid == sa.bindparam("sid")).values(_bound(flows, ("test_users",)))
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


def create_flow(conn: sa.Connection, sid: str, account_sid: str, data: RevisionInput) -> Any:
    """Insert a flow with its first revision; the flow as ``get_flow`` would read it back."""
    now = utcnow()
    published = 1 if data.status == "published" else None
    inserted = _INSERT_FLOW.first(
        conn,
        {
            "sid": sid,
            "account_sid": account_sid,
            "friendly_name": data.friendly_name,
            "status": data.status,
            "revision": 1,
            "published_revision": published,
            "commit_message": data.commit_message,
            "date_created": now,
            "date_updated": now,
        },
    )
    _INSERT_REVISION.execute(conn, _revision_values(sid, account_sid, 1, data, now))
    # Everything a re-read would return was just written: build the row rather than query it.
    return _GET_FLOW.row_class(
        id=inserted.id,
        sid=sid,
        account_sid=account_sid,
        published_revision=published,
        test_users=inserted.test_users,
        date_created=now,
        revision=1,
        author_sid=data.author_sid,
        friendly_name=data.friendly_name,
        status=data.status,
        definition=data.definition,
        commit_message=data.commit_message,
        valid=data.valid,
        errors=data.errors,
        warnings=data.warnings,
        date_updated=now,
    )


def add_revision(conn: sa.Connection, sid: str, account_sid: str, data: RevisionInput) -> bool:
    """Append the next revision; False when the flow does not exist for this account."""
    now = utcnow()
    updated = _NEXT_REVISION[data.status == "published"].first(
        conn,
        {
            "sid": sid,
            "account_sid": account_sid,
            "friendly_name": data.friendly_name,
            "status": data.status,
            "commit_message": data.commit_message,
            "date_updated": now,
        },
    )
    if updated is None:
        return False
    _INSERT_REVISION.execute(conn, _revision_values(sid, account_sid, updated.revision, data, now))
    return True


def get_flow(conn: Target, account_sid: str, sid: str) -> Any | None:
    """The flow joined to its latest revision, or None."""
    return _GET_FLOW.first(conn, {"sid": sid, "account_sid": account_sid})


def list_flows(conn: Target, account_sid: str, window: Window) -> Slice:
    """A page of the account's flows, oldest first, without definitions."""
    return _LIST_FLOWS.read(conn, window, {"account_sid": account_sid})


def delete_flow(conn: sa.Connection, account_sid: str, sid: str) -> bool:
    """Delete a flow and (by cascade) its revisions; False when it was not there."""
    return _DELETE_FLOW.execute(conn, {"sid": sid, "account_sid": account_sid}) > 0


def flow_exists(conn: Target, account_sid: str, sid: str) -> Any | None:
    """The flow row (without definition) or None."""
    return _FLOW_ROW.first(conn, {"sid": sid, "account_sid": account_sid})


def get_revision(conn: Target, flow_sid: str, number: int) -> Any | None:
    return _GET_REVISION.first(conn, {"flow_sid": flow_sid, "revision": number})


def list_revisions(conn: Target, flow_sid: str, window: Window) -> Slice:
    """A page of revisions, newest first."""
    return _LIST_REVISIONS.read(conn, window, {"flow_sid": flow_sid})


def set_test_users(conn: sa.Connection, flow_sid: str, test_users_json: str) -> None:
    _SET_TEST_USERS.execute(conn, {"sid": flow_sid, "test_users": test_users_json})


class FlowChanged(Exception):
    """The flow's revisions or test users changed since its row was read: an execution
    started from that row must start again from a fresh one."""


def start_state(row: Any) -> tuple[Any, ...]:
    """What choosing a flow's revision for a new execution depends on."""
    return (row.revision, row.published_revision, row.test_users)


def check_unchanged(conn: Target, row: Any) -> None:
    """Raise FlowChanged unless the flow still has ``row``'s :func:`start_state`."""
    current = flow_exists(conn, row.account_sid, row.sid)
    if current is None or start_state(current) != start_state(row):
        raise FlowChanged(row.sid)
