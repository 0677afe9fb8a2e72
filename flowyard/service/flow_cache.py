"""Flows as the runtime needs them: parsed revisions, the revision a new execution runs, and
the environment its sprints run in."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard import engine
from flowyard.errors import TwilioError, not_found
from flowyard.service.flows import require_flow
from flowyard.sids import new_sid
from flowyard.store import flows as flow_store

# Flow rows (without definition) last read on each engine, by (account, flow), for starting
# executions on PostgreSQL, where reading one is a round trip. A cached row is never trusted
# on its own: the transaction that stores the execution checks that the flow still has the
# row's start state (``flows.check_unchanged``), and a start made on a stale row starts again.
_FLOW_ROWS: weakref.WeakKeyDictionary[sa.Engine, dict[tuple[str, str], Any]] = (
    weakref.WeakKeyDictionary()
)
_FLOW_ROWS_MAX = 1024
_PARSED_MAX = 512


class FlowCache:
    """Parsed revisions (they never change, so they are kept, LRU) and cached flow rows."""

    def __init__(self, db: sa.Engine, *, lifetime: float = 30 * 24 * 3600.0) -> None:
        self.db = db
        self.lifetime = lifetime
        self._parsed: OrderedDict[tuple[str, int], engine.Flow] = OrderedDict()

    def load(self, flow_sid: str, revision: int) -> engine.Flow | None:
        """A parsed revision, or None if it does not exist."""
        key = (flow_sid, revision)
        flow = self._parsed.get(key)
        if flow is not None:
            self._parsed.move_to_end(key)
            return flow
        with self.db.connect() as conn:
            row = flow_store.get_revision(conn, flow_sid, revision)
        if row is None:
            return None
        flow = engine.Flow.from_definition(
            orjson.loads(row.definition), flow_sid=flow_sid, revision=revision
        )
        self._parsed[key] = flow
        if len(self._parsed) > _PARSED_MAX:
            self._parsed.popitem(last=False)
        return flow

    def _subflow(self, account_sid: str, flow_sid: str, revision_spec: str) -> engine.Flow | None:
        with self.db.connect() as conn:
            row = flow_store.flow_exists(conn, account_sid, flow_sid)
        if row is None:
            return None
        spec = str(revision_spec or "LatestPublished")
        if spec in ("LatestPublished", "LatestDraft", "LatestRevision"):
            number = row.published_revision if spec == "LatestPublished" else row.revision
        elif spec.isdigit():
            number = int(spec)
        else:
            return None
        return self.load(flow_sid, number) if number else None

    def environment(self, account_sid: str) -> engine.Environment:
        return engine.Environment(
            now=lambda: datetime.now(UTC),
            new_sid=new_sid,
            load_subflow=lambda sid, spec: self._subflow(account_sid, sid, spec),
            lifetime_seconds=self.lifetime,
        )

    def for_start(
        self, account_sid: str, flow_sid: str, contact: str
    ) -> tuple[Any, bool, engine.Flow]:
        """The flow row a new execution for ``contact`` starts on (20404 if none), whether it
        came from the cache (then check it unchanged in the transaction that stores the
        execution), and the revision it runs. Refuses (84004) on a fresh row only."""
        row, cached = self._row(account_sid, flow_sid)
        try:
            revision = _revision_for(row, contact)
            flow = self.load(flow_sid, revision)
            if flow is None:
                raise not_found(f"/Flows/{flow_sid}/Revisions/{revision}")
        except TwilioError:
            if not cached:
                raise
            self.forget(account_sid, flow_sid)
            return self.for_start(account_sid, flow_sid, contact)
        return row, cached, flow

    def _row(self, account_sid: str, flow_sid: str) -> tuple[Any, bool]:
        # SQLite reads are in-process and cheaper than the checks: never cached.
        if self.db.dialect.name == "sqlite":
            return require_flow(self.db, account_sid, flow_sid), False
        cache = _FLOW_ROWS.setdefault(self.db, {})
        row = cache.get((account_sid, flow_sid))
        if row is not None:
            return row, True
        row = require_flow(self.db, account_sid, flow_sid)
        if len(cache) >= _FLOW_ROWS_MAX:
            cache.clear()
        cache[account_sid, flow_sid] = row
        return row, False

    def forget(self, account_sid: str, flow_sid: str) -> None:
        cache = _FLOW_ROWS.get(self.db)
        if cache is not None:
            cache.pop((account_sid, flow_sid), None)


def _revision_for(flow: Any, contact: str) -> int:
    """Test users run the latest revision, draft or not; everyone else the published one."""
    if contact in orjson.loads(flow.test_users):
        return flow.revision
    if flow.published_revision is None:
        raise TwilioError(
            400,
            84004,
            "The Flow has no published revision: publish it, or add the contact to its "
            "TestUsers to run the draft",
        )
    return flow.published_revision
