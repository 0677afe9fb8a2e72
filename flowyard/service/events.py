"""Event Streams: what Flowyard emits, as CloudEvents 1.0 with Twilio's field names.

A sprint's commit carries its events as ``("event", row)`` records (one row per subscribed
sink, holding that sprint's events in order), stored in the outbox in the sprint's own
transaction: an event exists exactly when what it describes does. An account without
subscriptions pays one cached dict lookup per commit (``Subscribers``: its routes are read at
most once a second).
docs/event-streams.md has the formats.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard.service import event_lines as lines
from flowyard.service.alerts import more_info
from flowyard.sids import new_sid
from flowyard.store import events as store
from flowyard.store.clock import utcnow

STARTED = "com.twilio.studio.flow.execution.started"
ENDED = "com.twilio.studio.flow.execution.ended"
STEP_ENDED = "com.twilio.studio.flow.step.ended"
ERROR_LOGGED = "com.twilio.error-logs.error.logged"
TEST = "com.twilio.eventstreams.test-sink"
SCHEMAS = "https://events-schemas.twilio.com"


@dataclass(frozen=True)
class EventType:
    type: str
    schema_id: str
    description: str
    version: int = 1


TYPES = {
    t.type: t
    for t in (
        EventType(STARTED, "Studio.FlowExecutionEvent", "Studio - Flow Execution Started", 2),
        EventType(ENDED, "Studio.FlowExecutionEvent", "Studio - Flow Execution Ended", 2),
        EventType(STEP_ENDED, "Studio.FlowStepEvent", "Studio - Flow Step Ended", 1),
        EventType(ERROR_LOGGED, "ErrorLogs.Error", "Error Logs - Error Logged", 2),
    )
}
TTL = 1.0  # seconds an account's routes are trusted in memory: a new subscription's delay


def _time(moment: datetime | None = None) -> str:
    """CloudEvents ``time`` and Twilio's data dates: UTC with milliseconds. ``isoformat`` on a
    naive datetime, not ``strftime``: five times cheaper, and a sprint formats dozens."""
    if moment is None:
        moment = datetime.now(UTC).replace(tzinfo=None)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def cloud_event(
    kind: str,
    source: str,
    data: dict[str, Any],
    *,
    id_: str | None = None,
    time_: str | None = None,
) -> dict:
    """One CloudEvent 1.0, as Twilio delivers it; ``time_``: its formatted ``time`` (a
    sprint's events share one)."""
    known = TYPES.get(kind)
    schema = f"{SCHEMAS}/{known.schema_id}/{known.version}" if known else None
    return {
        "specversion": "1.0",
        "type": kind,
        "source": source,
        "id": id_ or new_sid("EZ"),
        "dataschema": schema,
        "datacontenttype": "application/json",
        "time": time_ or _time(),
        "data": data,
    }


class Subscribers:
    """Which sinks want which event types, per account, read at most once per ``ttl``."""

    def __init__(self, db: sa.Engine, ttl: float = TTL) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[str, tuple[dict[str, tuple[str, ...]], float]] = {}

    def routes(self, account_sid: str) -> dict[str, tuple[str, ...]]:
        """Event type -> sink SIDs (empty: nothing to write)."""
        now = time.monotonic()
        hit = self._cache.get(account_sid)
        if hit is not None and hit[1] > now:
            return hit[0]
        found: dict[str, list[str]] = {}
        for kind, sink in store.routes(self._db, account_sid):
            sinks = found.setdefault(kind, [])
            if sink not in sinks:
                sinks.append(sink)
        if len(self._cache) > 10_000:
            self._cache.clear()
        routes = {kind: tuple(sinks) for kind, sinks in found.items()}
        self._cache[account_sid] = (routes, now + self._ttl)
        return routes

    def add(
        self,
        row: Any,
        started: bool,
        values: dict[str, Any],
        steps: list[dict[str, Any]],
        records: list[tuple[str, dict[str, Any]]],
    ) -> list[tuple[str, dict[str, Any]]]:
        """``records`` with the sprint's events for every subscribed sink: the execution
        started (``started``), each step ended (each followed by the alerts it raised), the
        other alerts, the execution ended. ``records`` itself when nobody listens."""
        routes = self.routes(row.account_sid)
        if not routes:
            return records
        head, events = sprint_events(row, started, values, steps, records)
        rows = outbox_rows(routes, row.account_sid, row.sid, events, head)
        return [*records, *(("event", r) for r in rows)] if rows else records

    def alert_rows(self, account_sid: str, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Outbox rows for alerts that belong to no execution (a refused flow webhook, a
        failing sink), to store in the alerts' own transaction; none when nobody listens."""
        routes = self.routes(account_sid)
        if ERROR_LOGGED not in routes:
            return []
        now = _time()
        return outbox_rows(routes, account_sid, None, [alert_event(a, now) for a in alerts])


def outbox_rows(
    routes: dict[str, tuple[str, ...]],
    account_sid: str,
    execution_sid: str | None,
    events: list,
    head: str | None = None,
) -> list[dict[str, Any]]:
    """One outbox row per sink: the events of its subscribed types, in order, one a line (a
    sprint's events cost one row, not one each). An event is a CloudEvent (a dict), or a
    compact line with its type (``event_lines``: ``head`` begins such a row)."""
    by_sink: dict[str, list[str]] = {}
    for event in events:
        if isinstance(event, tuple):  # (type, compact line)
            sinks, body = routes.get(event[0]), event[1]
        else:
            sinks = routes.get(event["type"])
            body = orjson.dumps(event).decode() if sinks else ""  # never holds a newline
        if sinks:
            for sink in sinks:
                by_sink.setdefault(sink, []).append(body)
    now = utcnow()
    return [
        {
            "sink_sid": sink,
            "account_sid": account_sid,
            "execution_sid": execution_sid,
            "count": len(bodies),
            "event": "\n".join([head, *bodies] if head else bodies),
            "sent": 0,
            "attempts": 0,
            "date_created": now,
        }
        for sink, bodies in by_sink.items()
    ]


def sprint_events(
    row: Any,
    started: bool,
    values: dict[str, Any],
    steps: list[dict[str, Any]],
    records: list[tuple[str, dict[str, Any]]],
) -> tuple[str, list[Any]]:
    """The sprint's events in order (alerts as CloudEvents, the execution's and its steps'
    as compact lines with their type) and the header of their rows."""
    now = _time()  # one moment for the sprint's events: they are written together
    dates: dict[Any, str] = {}  # steps are stored in whole seconds: most share one
    events: list[Any] = []
    if started:
        line = lines.execution_line(
            "started", new_sid("EZ"), row, "active",
            _time(row.date_created), _time(row.date_updated), None,
        )  # fmt: skip
        events.append((STARTED, line))
    by_step: dict[str | None, list[dict[str, Any]]] = {}
    for kind, record in records:
        if kind == "alert":
            by_step.setdefault(record.get("step_sid"), []).append(record)
    for step in steps:
        moment = step["date_created"]
        date = dates.get(moment) or dates.setdefault(moment, _time(moment))
        events.append((STEP_ENDED, lines.step_line(step, date)))
        if by_step:  # most sprints raise no alert
            events.extend(alert_event(a, now) for a in by_step.pop(step["sid"], ()))
    events.extend(alert_event(a, now) for rest in by_step.values() for a in rest)
    if row.status == "active" and values.get("status") == "ended":
        line = lines.execution_line(
            "ended", new_sid("EZ"), row, "ended",
            _time(row.date_created), _time(utcnow()), _ended_reason(values),
        )  # fmt: skip
        events.append((ENDED, line))
    return lines.header(now, row.flow_sid), events


def _ended_reason(values: dict[str, Any]) -> str:
    state = values.get("engine_state")
    if not state:  # the host ended it (host.BROKEN)
        return "HOST_ERROR"
    return orjson.loads(state).get("ended_reason") or "FLOW_END"


def alert_event(alert: dict[str, Any], time_: str | None = None) -> dict[str, Any]:
    """ErrorLogs.Error for a Debugger alert; ``id`` is the alert's SID (NO…). An alert of a
    flow is Studio's; one of a sink (``resource_sid`` DG…) is Event Streams'."""
    flow = str(alert["resource_sid"] or "").startswith("FW")
    payload: dict[str, Any] = {
        "resource_sid": alert["resource_sid"],
        "service_sid": alert["resource_sid"],
        "error_code": alert["error_code"],
        "more_info": more_info(alert["error_code"]),
        "message": alert["message"],
        "execution_sid": alert["execution_sid"],
        "step_sid": alert["step_sid"],
        "widget_name": alert["widget"],
    }
    if alert.get("request_url"):
        payload["webhook"] = {
            "request": {"method": alert["request_method"], "url": alert["request_url"]}
        }
    data = {
        "sid": alert["sid"],
        "account_sid": alert["account_sid"],
        "master_account_sid": alert["account_sid"],
        "date_created": _time(alert["date_generated"]),
        "level": alert["log_level"].upper(),
        "request_sid": None,
        "service_sid": alert["resource_sid"],
        "correlation_sid": alert["execution_sid"],
        "product_name": "Studio" if alert["execution_sid"] or flow else "Event Streams",
        "error_code": str(alert["error_code"]),
        "payload": orjson.dumps(payload).decode(),
    }
    source = f"/v1/Alerts/{alert['sid']}"
    return cloud_event(ERROR_LOGGED, source, data, id_=alert["sid"], time_=time_)


def test_event(sink_sid: str, account_sid: str) -> dict[str, Any]:
    """What ``Sinks/{Sid}/Test`` sends: its ``id`` is the TestId ``Validate`` expects."""
    test_id = new_sid("EV")
    data = {"test_id": test_id, "sink_sid": sink_sid, "account_sid": account_sid}
    return cloud_event(TEST, f"/v1/Sinks/{sink_sid}/Test", data, id_=test_id)
