"""What a sprint writes: the execution row's values, its steps, the platform's records."""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard import engine
from flowyard.service.flows import require_flow
from flowyard.store import calls as call_store
from flowyard.store import executions as store
from flowyard.store import flows as flow_store
from flowyard.store import outbox, write
from flowyard.store.clock import utcnow

# Service calls that wait for Twilio to come back to the flow webhook (voice widgets).
TWIML, ANSWER = "twiml", "answer"
VOICE_WAITS = (TWIML, ANSWER)


def naive(moment: datetime | float | None) -> datetime | None:
    """A naive UTC datetime in whole seconds, as the store keeps them."""
    if moment is None:
        return None
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0) if moment.tzinfo else moment


def row_values(sprint: engine.Sprint) -> dict[str, Any]:
    state = sprint.state
    snapshot = state.to_json()
    context = snapshot.pop("context")
    wait = sprint.wait
    ended = state.status == "ended"
    waiting_for = None if ended or wait is None else wait.kind
    wake_at = None if ended or wait is None else naive(wait.until)
    pending = sprint.pending
    if not ended and pending is not None and pending.kind in VOICE_WAITS:
        # A TwiML Redirect waits with a timer; other voice widgets wait for the call, and
        # wake only at the lifetime expiry, which ends them.
        timeout_at = pending.request.get("timeout_at")
        if timeout_at and state.expires_at is not None:
            timeout_at = min(timeout_at, state.expires_at)
        waiting_for = "redirect" if timeout_at else "call"
        wake_at = naive(timeout_at or state.expires_at)
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
    for kind, row in records:
        if kind == "message":
            outbox.insert_message(conn, row)
        elif kind == "task":
            outbox.insert_task(conn, row)
        elif kind == "call":
            call_store.insert_call(conn, row)
        elif kind == "recording":
            call_store.insert_recording(conn, row)
        elif kind == "recording_update":
            call_store.update_recording(conn, row["sid"], row)


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


# Flow rows (without definition) last read on each engine, by (account, flow), for starting
# executions on PostgreSQL, where reading one is a round trip. A cached row is never trusted
# on its own: the commit (or the claim before a first external effect) checks that the flow
# still has the row's start state, and a start made on a stale row is started again.
_FLOW_ROWS: weakref.WeakKeyDictionary[sa.Engine, dict[tuple[str, str], Any]] = (
    weakref.WeakKeyDictionary()
)
_FLOW_ROWS_MAX = 1024


def flow_for_start(db: sa.Engine, account_sid: str, flow_sid: str) -> tuple[Any, bool]:
    """The flow row to start an execution on (20404 if none), and whether it came from the
    cache (then ``flows.check_unchanged`` it before any effect leaves the process). SQLite reads
    are in-process and cheaper than the checks: never cached."""
    if db.dialect.name == "sqlite":
        return require_flow(db, account_sid, flow_sid), False
    cache = _FLOW_ROWS.setdefault(db, {})
    row = cache.get((account_sid, flow_sid))
    if row is not None:
        return row, True
    row = require_flow(db, account_sid, flow_sid)
    if len(cache) >= _FLOW_ROWS_MAX:
        cache.clear()
    cache[account_sid, flow_sid] = row
    return row, False


def forget_flow(db: sa.Engine, account_sid: str, flow_sid: str) -> None:
    cache = _FLOW_ROWS.get(db)
    if cache is not None:
        cache.pop((account_sid, flow_sid), None)


def commit_started(
    db: sa.Engine,
    execution: dict[str, Any],
    steps: list[dict[str, Any]],
    records: list[tuple[str, dict[str, Any]]],
    flow_row: Any,
    cached: bool,
) -> Any:
    """Commit an execution whose first sprint ran in-process (nothing claimed it before):
    the execution row, its steps and the platform's records in one write-only transaction.
    On PostgreSQL that is one statement (one round trip, no BEGIN or COMMIT), or failing
    that one pipelined batch; on SQLite one transaction of prebuilt inserts. Returns the
    execution row as stored.

    Raises ``sqlalchemy.exc.IntegrityError`` when the contact already has an active execution
    in this flow: the unique index decides, and nothing of the transaction is kept; and
    ``FlowChanged`` when ``flow_row`` (``cached``: from :func:`flow_for_start`) is stale.
    """
    # Inline, not on a worker thread: measured, the thread's GIL hand-offs cost more CPU
    # (~0.7 ms per execution) than the event loop waits for PostgreSQL's commit.
    by_kind: dict[str, list[dict[str, Any]]] = {"message": [], "task": []}
    for kind, row in records:
        by_kind.setdefault(kind, []).append(row)
    if len(by_kind) == 2:  # nothing but messages and tasks: one statement on PostgreSQL
        saved = store.insert_started(
            db, execution, steps, by_kind["message"], by_kind["task"], flow_row
        )
        if saved is not None:
            return saved
    with write(db, batch=True) as conn:
        if cached:
            flow_store.check_unchanged(conn, flow_row)
        saved = store.insert_new_execution(conn, execution)
        store.insert_steps(conn, steps)
        store_records(conn, records)
    return saved()
