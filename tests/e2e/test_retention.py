"""Retention through a real server: executions older than FLOWYARD_RETENTION_DAYS (with their
steps, messages and alerts) leave the database while newer ones, active ones and every flow
stay, and fetches running meanwhile see no error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from twilio.base.exceptions import TwilioRestException

from flowyard.store import create_db_engine
from tests.conftest import BACKENDS, Server, serving
from tests.e2e.helpers import wait_ended, wait_for
from tests.flows import flow, go, state

RETENTION = 20.0  # seconds: the server keeps executions this long
SEND = {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


@pytest.fixture(scope="module", params=BACKENDS)
def short_memory(request, tmp_path_factory) -> Iterator[Server]:
    days = str(RETENTION / 86400)
    with serving(request.param, tmp_path_factory, {"FLOWYARD_RETENTION_DAYS": days}) as srv:
        yield srv


def _counts(server: Server) -> dict[str, int]:
    db = create_db_engine(server.database_url)
    try:
        with db.connect() as conn:
            return {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("executions", "steps", "messages", "alerts")
            }
    finally:
        db.dispose()


def test_old_executions_leave_and_everything_else_stays(short_memory):
    client = short_memory.new_client()
    definition = flow(
        state("hi", "send-message", [go("sent", "h"), go("failed")], body="hello", **SEND),
        state("h", "make-http-request", [go("success"), go("failed")], method="GET",
              url="not a url", content_type="application/json"),
        rest="hi",
    )  # fmt: skip
    waiting = flow(
        state("ask", "send-and-wait-for-reply", [go("incomingMessage"), go("timeout")],
              body="?", timeout="3600", **{"from": "{{flow.channel.address}}"}),
        rest="ask",
    )  # fmt: skip
    flows = [
        client.studio.v2.flows.create(friendly_name=name, status="published", definition=d)
        for name, d in (("quick", definition), ("waits", waiting))
    ]
    quick, waits = (client.studio.v2.flows(f.sid).executions for f in flows)
    began = time.monotonic()
    old = [quick.create(to=f"+1555000{i:04d}", from_="+15559990000").sid for i in range(5)]
    active = waits.create(to="+15550009999", from_="+15559990000").sid
    for sid in old:
        wait_ended(client, flows[0].sid, sid)
    before = _counts(short_memory)
    assert before["executions"] == 6 and before["alerts"] == 5 and before["messages"] >= 6

    time.sleep(max(0.0, began + RETENTION - time.monotonic()))  # the old ones are now too old
    new = [quick.create(to=f"+1555100{i:04d}", from_="+15559990000").sid for i in range(3)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def fetch_new() -> None:  # a load of reads while the deletion runs
        while not stop.is_set():
            try:
                for sid in new:
                    quick(sid).fetch()
                    quick(sid).steps.list()
                client.studio.v2.flows.list()
            except BaseException as exc:
                errors.append(exc)
                return

    reader = threading.Thread(target=fetch_new)
    reader.start()
    try:

        def gone() -> bool:
            try:
                quick(old[-1]).fetch()
            except TwilioRestException as exc:
                return exc.status == 404
            return False

        wait_for(gone, timeout=RETENTION / 2)
    finally:
        stop.set()
        reader.join(30)
    assert errors == []
    for sid in old:
        with pytest.raises(TwilioRestException) as missing:
            quick(sid).fetch()
        assert missing.value.status == 404
    assert [quick(sid).fetch().status for sid in new] == ["ended"] * 3
    assert waits(active).fetch().status == "active"  # active: ended by its lifetime first
    assert {f.sid for f in client.studio.v2.flows.list()} == {f.sid for f in flows}
    after = _counts(short_memory)
    assert after["executions"] == 4  # 3 new + the active one
    assert after["alerts"] == 3 and after["steps"] < before["steps"]
    assert [a for a in client.monitor.v1.alerts.list() if any(s in a.alert_text for s in old)] == []
