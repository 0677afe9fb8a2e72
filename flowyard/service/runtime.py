"""Running executions: start, resume, end, timers, and the service calls the engine asks for.

The use cases around it call ``start`` and ``resume``: the REST trigger here, messages in
``flowyard.service.messaging``, calls in ``flowyard.service.voice``.

Voice widgets ask for ``twiml`` (answer the live call with these verbs) or ``answer`` (wait
for a placed call): those wait for the call's next webhook (``flowyard.service.voice``).

The engine is pure; this module is its host. A sprint runs with no database transaction open
(HTTP calls may take seconds), and its outcome is committed in one transaction guarded by the
execution's version, so two resumes of one execution never both commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

from flowyard import engine
from flowyard.config import Settings
from flowyard.errors import TwilioError, invalid_parameter, missing_parameter, not_found
from flowyard.platform import (
    Platform,
)
from flowyard.service.executions import require_execution
from flowyard.service.persistence import (
    ANSWER,
    TWIML,
    commit_started,
    flow_for_start,
    forget_flow,
    row_values,
    step_rows,
    store_records,
)
from flowyard.service.services import ServiceCalls
from flowyard.sids import new_sid
from flowyard.store import calls as call_store
from flowyard.store import executions as store
from flowyard.store import flows as flow_store
from flowyard.store import write
from flowyard.store.clock import utcnow

log = logging.getLogger("flowyard.runtime")

NO_CALL = "no call is in progress for this execution"


class Runtime:
    """Everything an execution needs from the host: storage, platform, HTTP, clock, SIDs."""

    def __init__(
        self, db: sa.Engine, settings: Settings, platform: Platform, http: httpx.AsyncClient
    ) -> None:
        self.db = db
        self.settings = settings
        self.platform = platform
        self.services = ServiceCalls(db, settings, platform, http)
        self._flows: OrderedDict[tuple[str, int], engine.Flow] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    # -- flows ---------------------------------------------------------------------------

    def load_flow(self, flow_sid: str, revision: int) -> engine.Flow | None:
        """A parsed revision; revisions never change, so parsed ones are kept (LRU)."""
        key = (flow_sid, revision)
        flow = self._flows.get(key)
        if flow is not None:
            self._flows.move_to_end(key)
            return flow
        with self.db.connect() as conn:
            row = flow_store.get_revision(conn, flow_sid, revision)
        if row is None:
            return None
        flow = engine.Flow.from_definition(
            orjson.loads(row.definition), flow_sid=flow_sid, revision=revision
        )
        self._flows[key] = flow
        if len(self._flows) > 512:
            self._flows.popitem(last=False)
        return flow

    def _load_subflow(
        self, account_sid: str, flow_sid: str, revision_spec: str
    ) -> engine.Flow | None:
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
        return self.load_flow(flow_sid, number) if number else None

    def _revision_for(self, flow: Any, contact: str) -> int:
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

    def environment(self, account_sid: str) -> engine.Environment:
        return engine.Environment(
            now=lambda: datetime.now(UTC),
            new_sid=new_sid,
            load_subflow=lambda sid, spec: self._load_subflow(account_sid, sid, spec),
        )

    # -- running sprints -------------------------------------------------------------------

    async def _complete(
        self,
        flow: engine.Flow,
        sprint: engine.Sprint,
        account_sid: str,
        env: engine.Environment,
        *,
        live: bool = False,
        before_external: Callable[[], Awaitable[None]] | None = None,
    ) -> tuple[engine.Sprint, list[engine.Step], list[tuple[str, dict[str, Any]]]]:
        """Answer every service call the engine asks for until it ends or waits.

        Voice widgets wait for the call to come back: ``live`` means a call webhook is being
        answered, so its TwiML goes out now; otherwise it goes out on the call's next fetch,
        and without any call the widget fails.
        ``before_external`` is awaited before the first call with effects outside the process.
        Returns the last sprint, every step, and the platform's records of what was sent,
        which the caller stores in the transaction that commits the sprint.
        """
        steps = list(sprint.steps)
        records: list[tuple[str, dict[str, Any]]] = []
        while sprint.pending is not None:
            kind = sprint.pending.kind
            if kind == ANSWER or (
                kind == TWIML and (live or self.services.has_call(sprint.state.execution_sid))
            ):
                break
            if kind == TWIML:
                result = engine.CallResult(ok=False, error=NO_CALL)
            else:
                if before_external is not None and self.services.external(kind):
                    await before_external()
                outcome = await self.services.serve(
                    sprint.pending, sprint.state, account_sid, records
                )
                records.extend(outcome.records)
                result = engine.CallResult(ok=outcome.ok, data=outcome.data, error=outcome.error)
            sprint = engine.resume(flow, sprint.state, result, env)
            steps.extend(sprint.steps)
        return sprint, steps, records

    def lock(self, sid: str) -> asyncio.Lock:
        lock = self._locks.get(sid)
        if lock is None:
            lock = self._locks[sid] = asyncio.Lock()
        return lock

    # -- use cases -----------------------------------------------------------------------

    async def create_execution(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        to: str | None,
        from_: str | None,
        parameters: str | None,
        return_existing: bool,
    ) -> Any:
        """The REST trigger (``incomingRequest``): one active execution per contact."""
        if to is None:
            raise missing_parameter("To")
        if from_ is None:
            raise missing_parameter("From")
        data: Any = {}
        if parameters:
            try:
                data = orjson.loads(parameters)
            except orjson.JSONDecodeError:
                raise invalid_parameter("Parameters", "must be a JSON object") from None
            if not isinstance(data, dict):
                raise invalid_parameter("Parameters", "must be a JSON object")
        trigger = engine.Trigger("incomingRequest", {"to": to, "from": from_, "parameters": data})
        return await self.start(
            account_sid,
            flow_sid,
            trigger,
            contact=to,
            initiated_by=new_sid("RQ"),
            return_existing=return_existing,
        )

    async def start(
        self,
        account_sid: str,
        flow_sid: str,
        trigger: engine.Trigger,
        *,
        contact: str,
        initiated_by: str | None,
        return_existing: bool,
        call: dict[str, Any] | None = None,
    ) -> Any:
        """Start and commit an execution; ``call`` is the row of the call that started it,
        stored with the execution so its callbacks find it."""
        while True:
            flow_row, cached = flow_for_start(self.db, account_sid, flow_sid)
            try:
                revision = self._revision_for(flow_row, contact)
                flow = self.load_flow(flow_sid, revision)
                if flow is None:
                    raise not_found(f"/Flows/{flow_sid}/Revisions/{revision}")
                break
            except TwilioError:
                if not cached:
                    raise
                forget_flow(self.db, account_sid, flow_sid)  # refuse on a fresh row only
        active = contact
        if call is not None and flow.allow_concurrent_calls:
            active = f"{contact}#{call['sid']}"  # one slot per call, not per caller
        env = self.environment(account_sid)
        execution_sid = new_sid("FN")
        sprint = engine.start(flow, trigger, env, execution_sid=execution_sid)
        base_context = sprint.base_context
        now = utcnow()
        base_json = orjson.dumps(base_context).decode()
        row = {
            "sid": execution_sid,
            "account_sid": account_sid,
            "flow_sid": flow_sid,
            "flow_revision": revision,
            "contact_channel_address": contact,
            "contact_sid": "FC" + execution_sid[2:],
            "initiated_by": initiated_by,
            "status": "active",
            "active_contact": active,
            "context": base_json,
            "base_context": base_json,
            "engine_state": "{}",
            "version": 1,
            "date_created": now,
            "date_updated": now,
        }
        claimed = False

        def again() -> Awaitable[Any]:
            return self.start(
                account_sid,
                flow_sid,
                trigger,
                contact=contact,
                initiated_by=initiated_by,
                return_existing=return_existing,
                call=call,
            )

        async def claim() -> None:
            # The contact's slot is claimed (its own transaction, the unique index deciding
            # races) before anything leaves the process; a sprint that stays in-process is
            # written in one transaction at the end instead.
            nonlocal claimed
            if not claimed:
                with write(self.db) as conn:
                    if cached:  # nothing left the process yet: a stale flow row starts again
                        flow_store.check_unchanged(conn, flow_row)
                    store.insert_execution(conn, row)
                    if call is not None:
                        call_store.insert_call(conn, {**call, "execution_sid": execution_sid})
                claimed = True

        try:
            if call is not None:
                await claim()
            async with self.lock(execution_sid):
                try:
                    sprint, steps, records = await self._complete(
                        flow,
                        sprint,
                        account_sid,
                        env,
                        live=call is not None,
                        before_external=claim,
                    )
                except sa.exc.IntegrityError:
                    raise
                except BaseException:
                    if claimed:  # never leave the slot held by an execution nobody resumes
                        with write(self.db) as conn:
                            store.save_execution(
                                conn,
                                execution_sid,
                                1,
                                {
                                    "status": "ended",
                                    "active_contact": None,
                                    "date_updated": utcnow(),
                                },
                            )
                    raise
                rows = step_rows(steps, account_sid, flow_sid, execution_sid)
                if not claimed:  # the unique index decides the slot: IntegrityError below
                    new_row = {**row, **row_values(sprint), "version": 2}
                    return commit_started(self.db, new_row, rows, records, flow_row, cached)
                with write(self.db) as conn:
                    store.save_execution(conn, execution_sid, 1, row_values(sprint))
                    store.insert_steps(conn, rows)
                    store_records(conn, records)
                    return store.get_execution_by_sid(conn, execution_sid)
        except flow_store.FlowChanged:
            forget_flow(self.db, account_sid, flow_sid)
            return await again()
        except sa.exc.IntegrityError:
            with self.db.connect() as conn:
                existing = store.find_active(conn, flow_sid, active)
            if existing is None:  # ended between our insert and our read: try once more
                return await again()
            if return_existing:
                return existing
            raise TwilioError(
                409,
                20409,
                f"Execution {existing.sid} is already active for this contact. End the active "
                "Execution before creating a new one",
                {"conflicting_execution_sid": existing.sid},
            ) from None

    async def resume(
        self,
        execution_sid: str,
        make_input: Any,
        *,
        expect_wait: tuple[str, ...] | None = None,
        live: bool = False,
    ) -> Any | None:
        """Feed one resume to an execution, serialised per execution; None if not applicable."""
        async with self.lock(execution_sid):
            row, committed = await self._resume_locked(execution_sid, make_input, expect_wait, live)
        if committed and not live:
            # Nobody is fetching TwiML right now: tell the call where to go next (after the
            # lock: the Calls API may take a while, and the sprint is committed).
            await self.services.pull_back(
                row.account_sid, row.flow_sid, execution_sid, ended=row.status != "active"
            )
        return row

    async def _resume_locked(
        self,
        execution_sid: str,
        make_input: Any,
        expect_wait: tuple[str, ...] | None,
        live: bool,
    ) -> tuple[Any | None, bool]:
        """``resume`` under the execution's lock: the row, and whether this sprint committed."""
        for _attempt in range(3):
            with self.db.connect() as conn:
                row = store.get_execution_by_sid(conn, execution_sid)
            if row is None or row.status != "active":
                return row, False
            if expect_wait is not None and row.waiting_for not in expect_wait:
                return None, False
            flow = self.load_flow(row.flow_sid, row.flow_revision)
            if flow is None:
                return None, False
            state = engine.ExecutionState.from_json(
                {**orjson.loads(row.engine_state), "context": orjson.loads(row.context)}
            )
            env = self.environment(row.account_sid)
            resume_input = make_input(row)
            if resume_input is None:
                sprint = engine.end(flow, state, env)
            else:
                sprint = engine.resume(flow, state, resume_input, env)
            sprint, steps, records = await self._complete(
                flow, sprint, row.account_sid, env, live=live
            )
            with write(self.db) as conn:
                # What was sent was sent, whether or not this sprint wins the race.
                store_records(conn, records)
                if store.save_execution(conn, execution_sid, row.version, row_values(sprint)):
                    store.insert_steps(
                        conn,
                        step_rows(steps, row.account_sid, row.flow_sid, execution_sid),
                    )
                    return store.get_execution_by_sid(conn, execution_sid), True
            log.info("execution %s changed under a resume; retrying", execution_sid)
        return None, False

    async def end_execution(self, account_sid: str, flow_sid: str, sid: str) -> Any:
        """``Status=ended``: the execution stops where it is."""
        with self.db.connect() as conn:
            require_execution(conn, account_sid, flow_sid, sid)
        await self.resume(sid, lambda _row: None)
        with self.db.connect() as conn:
            return require_execution(conn, account_sid, flow_sid, sid)

    async def fire_due_timers(self, limit: int = 100) -> int:
        """Resume every execution whose timer is due (reply time-outs, 30-day expiry)."""
        now = utcnow()
        with write(self.db) as conn:
            due = store.claim_due(conn, now, now + timedelta(seconds=60), limit)
        for sid in due:
            try:
                await self.resume(sid, _timer_input)
            except Exception:  # one broken execution must not stop the others' timers
                log.exception("timer of execution %s failed", sid)
        return len(due)

    async def run_timers(self, interval: float) -> None:
        """The scheduler loop; started with the app, cancelled at shutdown."""
        while True:
            try:
                while await self.fire_due_timers() > 0:
                    pass
            except Exception:
                log.exception("timer sweep failed")
            await asyncio.sleep(interval)


def voice_callback(
    event: str, params: dict[str, Any], query: dict[str, Any], request: dict[str, Any]
) -> engine.CallResult:
    """The resume a voice widget gets when Twilio comes back (see engine widgets/_voice.py)."""
    return engine.CallResult(
        ok=True,
        data={"callback": {"event": event, "params": params, "query": query, "request": request}},
    )


def _timer_input(row: Any) -> engine.ResumeInput:
    # A TwiML Redirect's timer is the widget's ``timeout`` callback, not a reply timeout
    # (unless the lifetime ran out first: the engine then ends the execution either way).
    if row.waiting_for == "redirect":
        return voice_callback("timeout", {}, {}, {})
    return engine.Timeout()
