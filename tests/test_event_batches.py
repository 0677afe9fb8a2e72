"""Event Streams batches: outbox rows as the runtime writes them, cut into JSON arrays of at
most 64 kB (Twilio's limit) in order, a row split where it crosses the limit, each batch
saying how many of each row's events it carries; compact rows expand to the CloudEvents the
schemas describe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

from flowyard.service import events
from flowyard.service.event_delivery import MAX_BATCH_BYTES, batches
from flowyard.service.event_lines import expand
from flowyard.sids import new_sid

ACCOUNT, FLOW = new_sid("AC"), new_sid("FW")
ROUTES = {kind: ("DG" + "0" * 32,) for kind in events.TYPES}


def _execution(steps: int, name: str) -> SimpleNamespace:
    now = datetime.now(UTC).replace(tzinfo=None)
    row = SimpleNamespace(
        sid=new_sid("FN"), account_sid=ACCOUNT, flow_sid=FLOW, status="active",
        contact_channel_address="+15550001111", date_created=now, date_updated=now,
        initiated_by=new_sid("RQ"), flow_revision=3,
    )  # fmt: skip
    rows = [
        {
            "sid": new_sid("FT"),
            "parent_step_sid": None,
            "name": name,
            "transitioned_from": f"w{i}",
            "transitioned_to": f"w{i + 1}",
            "date_created": now.replace(microsecond=0),
        }
        for i in range(steps)
    ]
    ended = {"status": "ended", "engine_state": '{"ended_reason": "FLOW_END"}'}
    head, sprint = events.sprint_events(row, True, ended, rows, [])
    (outbox,) = events.outbox_rows(ROUTES, ACCOUNT, row.sid, sprint, head)
    return SimpleNamespace(id=len(row.sid), **outbox)


def test_rows_are_cut_at_64_kb_in_order():
    rows = []
    for i in range(40):  # ~700 B an event, 2 + 30 events a row: several rows per batch
        row = _execution(30, "paso-ñ" if i % 2 else "success")
        row.id = i + 1
        rows.append(row)
    rows[3].sent = 5  # a row partly taken before: its first five are not sent again
    expected = [
        (row.id, json.loads(e))
        for row in rows
        for e in expand(row.event, ACCOUNT, row.execution_sid, row.sent)
    ]
    seen, taken = [], {}
    for body, marks in batches(rows):
        assert len(body.encode()) <= MAX_BATCH_BYTES
        seen += json.loads(body)
        taken.update(marks)
    assert len(seen) > 3 * (MAX_BATCH_BYTES // 1000), "several batches"
    assert seen == [event for _, event in expected]
    assert taken == {row.id: row.count for row in rows}


def test_compact_rows_expand_to_the_cloud_events():
    row = _execution(2, 'say "hi"\t')
    started, first, _second, ended = (
        json.loads(e) for e in expand(row.event, ACCOUNT, row.execution_sid)
    )
    assert row.count == 4 and started["type"].endswith("execution.started")
    assert started["source"] == f"/v2/Flows/{FLOW}/Executions/{row.execution_sid}"
    assert started["data"]["flow_revision"] == 3 and "ended_reason" not in started["data"]
    assert first["data"]["name"] == 'say "hi"\t' and first["data"]["parent_step_sid"] is None
    assert first["id"] == "EZ" + first["data"]["step_sid"][2:]
    assert first["time"] == started["time"] == ended["time"]
    assert ended["data"]["ended_reason"] == "FLOW_END" and ended["data"]["status"] == "ended"
    assert expand(row.event, ACCOUNT, row.execution_sid, 3) == [
        json.dumps(ended, separators=(",", ":"), ensure_ascii=False)
    ]
