"""What a sprint writes: the execution row's values, its steps, the platform's records."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard import engine
from flowyard.store import alerts as alert_store
from flowyard.store import calls as call_store
from flowyard.store import conversations, outbox, pg_sprints
from flowyard.store import events as event_store
from flowyard.store import executions as store
from flowyard.store import flows as flow_store
from flowyard.store import inbox as inbox_store
from flowyard.store.clock import utcnow
from flowyard.store.db import Plan

# Service calls that wait for Twilio to come back to the flow webhook (voice widgets).
TWIML, ANSWER = "twiml", "answer"
VOICE_WAITS = (TWIML, ANSWER)
# Records PostgreSQL writes in the sprint's one statement (pg_sprints.finish_plan).
IN_ONE = ("message", "event")


def naive(moment: datetime | float | None) -> datetime | None:
    """A naive UTC datetime in whole seconds, as the store keeps them."""
    if moment is None:
        return None
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0) if moment.tzinfo else moment


def _wake_time(until: float | None) -> datetime | None:
    """A timer's moment in whole seconds, rounded up: a timer that went off early would find
    its execution not yet expired, and take the widget's timeout instead."""
    return naive(math.ceil(until)) if isinstance(until, int | float) else naive(until)


def row_values(sprint: engine.Sprint) -> dict[str, Any]:
    state = sprint.state
    snapshot = state.to_json()
    context = snapshot.pop("context")
    wait = sprint.wait
    ended = state.status == "ended"
    waiting_for = None if ended or wait is None else wait.kind
    wake_at = None if ended or wait is None else _wake_time(wait.until)
    pending = sprint.pending
    if not ended and pending is not None and pending.kind in VOICE_WAITS:
        # A TwiML Redirect waits with a timer; other voice widgets wait for the call, and
        # wake only at the lifetime expiry, which ends them.
        timeout_at = pending.request.get("timeout_at")
        if timeout_at and state.expires_at is not None:
            timeout_at = min(timeout_at, state.expires_at)
        waiting_for = "redirect" if timeout_at else "call"
        wake_at = _wake_time(timeout_at or state.expires_at)
    return {
        "status": state.status,
        "context": orjson.dumps(context).decode(),
        "engine_state": orjson.dumps(snapshot).decode(),
        "waiting_for": waiting_for,
        "wake_at": wake_at,
        "date_updated": utcnow(),
        **({"active_contact": None} if ended else {}),
    }


def store_records(conn: sa.Connection, records: list[tuple[str, dict[str, Any]]]) -> None:
    events = []
    for kind, row in records:
        if kind == "message":
            outbox.insert_message(conn, row)
        elif kind == "task":
            outbox.insert_task(conn, row)
        elif kind == "conversation_message":
            conversations.insert_message(conn, row)
        elif kind == "conversation":
            conversations.insert_conversation(conn, row)
        elif kind == "conversation_participant":
            conversations.insert_participant(conn, row)
        elif kind == "conversation_update":
            values = {k: v for k, v in row.items() if k not in ("account_sid", "sid")}
            conversations.update_conversation(conn, row["account_sid"], row["sid"], values)
        elif kind == "call":
            call_store.insert_call(conn, row)
        elif kind == "recording":
            call_store.insert_recording(conn, row)
        elif kind == "recording_update":
            call_store.update_recording(conn, row["sid"], row)
        elif kind == "alert":
            alert_store.insert_alerts(conn, [row])
        elif kind == "event":
            events.append(row)
    event_store.insert_events(conn, events)  # one executemany, in the events' order


def step_rows(
    steps: list[engine.Step], account_sid: str, flow_sid: str, execution_sid: str
) -> list[dict[str, Any]]:
    return [
        {
            "sid": step.sid,
            "execution_sid": execution_sid,
            "account_sid": account_sid,
            "flow_sid": flow_sid,
            "parent_step_sid": step.parent_step_sid,
            "name": step.name,
            "transitioned_from": step.transitioned_from,
            "transitioned_to": step.transitioned_to,
            "type": step.widget_type,
            "patch": orjson.dumps(step.patch).decode(),
            "date_created": naive(step.date),
        }
        for step in steps
    ]


def commit_sprint(
    conn: sa.Connection,
    sid: str,
    owner: str,
    values: dict[str, Any],
    *,
    release: bool,
    steps: list[dict[str, Any]],
    records: list[tuple[str, dict[str, Any]]],
    item_id: int | None,
) -> tuple[Any, bool]:
    """Write a sprint's outcome if ``owner`` still holds the execution: its row as written (None
    when the lease was lost), and whether more resumes wait (``release``: the lease is given
    back). On PostgreSQL the execution, steps, messages and the resume's removal go in one
    statement."""
    if conn.dialect.name == "postgresql":
        plan = _finish_plan(
            sid, owner, values, release=release, steps=steps, records=records, item_id=item_id
        )
        if plan is not None:
            done = plan.run(conn)
            if done[0] is not None:
                store_records(conn, [(kind, row) for kind, row in records if kind not in IN_ONE])
            return done
    saved = store.save_leased(conn, sid, owner, values, release=release)
    if saved is None:
        return None, False
    store.insert_steps(conn, steps)
    store_records(conn, records)
    if item_id is not None:
        inbox_store.take(conn, item_id)
    return saved, release and inbox_store.has_pending(conn, sid)


def insert_start(
    conn: sa.Connection,
    *,
    row: dict[str, Any],
    item: dict[str, Any],
    call: dict[str, Any] | None,
    fresh: Any,
) -> tuple[Any, int]:
    """Store a new execution (every column but ``id``) with its trigger's inbox row (and the
    call that started it): the execution as stored and the inbox row's id. ``fresh``: a cached
    flow row, checked unchanged (``FlowChanged``). On PostgreSQL one statement does it all."""
    if conn.dialect.name == "postgresql" and call is None:
        plan = pg_sprints.start_plan(row, item, fresh)
        if plan is not None:
            return plan.run(conn)
    if fresh is not None:
        flow_store.check_unchanged(conn, fresh)
    saved = store.insert_new_execution(conn, row)
    item_id = inbox_store.enqueue(
        conn, row["sid"], item["kind"], item["payload"], item["date_created"]
    )
    if call is not None:
        call_store.insert_call(conn, {**call, "execution_sid": row["sid"]})
    return saved, item_id


def sprint_plan(db: sa.Engine, **sprint: Any) -> Plan | None:
    """:func:`commit_sprint` as one statement (PostgreSQL, nothing but steps, messages and
    outbox events to store), committed alone or sent with others. None where that does
    not apply."""
    records = sprint["records"]
    if db.dialect.name != "postgresql" or any(kind not in IN_ONE for kind, _ in records):
        return None
    return _finish_plan(**sprint)


def _finish_plan(
    sid: str,
    owner: str,
    values: dict[str, Any],
    *,
    release: bool,
    steps: list[dict[str, Any]],
    records: list[tuple[str, dict[str, Any]]],
    item_id: int | None,
) -> Plan | None:
    """The sprint's one PostgreSQL statement, with the records it carries (``IN_ONE``)."""
    return pg_sprints.finish_plan(
        sid, owner, values, release=release, step_rows=steps, item_id=item_id,
        message_rows=[row for kind, row in records if kind == "message"],
        event_rows=[row for kind, row in records if kind == "event"],
    )  # fmt: skip


def start_plan(db: sa.Engine, **start: Any) -> Plan | None:
    """:func:`insert_start` as one statement (PostgreSQL, a cached flow row, no call). None
    where that does not apply."""
    if db.dialect.name != "postgresql" or start["call"] is not None:
        return None
    return pg_sprints.start_plan(start["row"], start["item"], start["fresh"])
