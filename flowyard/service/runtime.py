"""Accepting triggers and resumes durably: what the request path does.

A request never runs a flow itself. It stores what arrived (a new execution with its trigger,
or a resume for an existing one) in one transaction and answers; the execution is then
driven in the background (``flowyard.service.host``), by this process or any other.

Voice widgets ask for ``twiml`` (answer the live call with these verbs) or ``answer`` (wait
for a placed call): those wait for the call's next webhook (``flowyard.service.voice``),
whose request waits for its resume to be applied.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
import sqlalchemy as sa

from flowyard import engine
from flowyard.engine import conversation
from flowyard.errors import TwilioError, invalid_parameter, missing_parameter
from flowyard.service import inputs, metrics
from flowyard.service.executions import require_execution
from flowyard.service.host import Host, log
from flowyard.service.inputs import Item
from flowyard.service.persistence import insert_start, start_plan
from flowyard.sids import new_sid
from flowyard.store import conversations
from flowyard.store import executions as store
from flowyard.store import flows as flow_store
from flowyard.store import inbox as inbox_store
from flowyard.store.clock import precise_now


class Runtime(Host):
    """Everything an execution needs from the host: storage, platform, HTTP, clock, SIDs."""

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
        """The REST trigger (``incomingRequest``), answered as Studio does: once the execution
        is stored, ``active`` with an empty context; the flow runs after."""
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
        row, item = await self.start(
            account_sid, flow_sid, trigger, contact=to, initiated_by=new_sid("RQ")
        )
        if item is None:
            if return_existing:
                return row
            raise TwilioError(
                409,
                20409,
                f"Execution {row.sid} is already active for this contact. End the active "
                "Execution before creating a new one",
                {"conflicting_execution_sid": row.sid},
            )
        self.spawn(self.drive(row.sid, row, [item]))
        return row

    async def start(
        self,
        account_sid: str,
        flow_sid: str,
        trigger: engine.Trigger,
        *,
        contact: str,
        initiated_by: str | None,
        call: dict[str, Any] | None = None,
    ) -> tuple[Any, Item | None]:
        """Store a new execution, held by this process, with its trigger in its inbox (in a
        group commit): the row and that trigger, to ``drive``. When the contact already has
        an active execution in this flow: that one's row and None. ``call`` is the row of the
        call that started it."""
        while True:
            start, payload = self._start_rows(
                account_sid, flow_sid, trigger, contact, initiated_by, call=call
            )
            try:
                saved, item_id = await self.starts.run(
                    partial(insert_start, **start), partial(start_plan, self.db, **start)
                )
            except flow_store.FlowChanged:
                self.flows.forget(account_sid, flow_sid)
                continue
            except sa.exc.IntegrityError:
                with self.db.connect() as conn:
                    existing = store.find_active(conn, flow_sid, start["row"]["active_contact"])
                if existing is None:  # it ended between our insert and our read
                    continue
                return existing, None
            metrics.execution_started()
            return saved, Item(inputs.START, payload, item_id)

    def start_in(
        self,
        conn: sa.Connection,
        account_sid: str,
        flow_sid: str,
        trigger: engine.Trigger,
        *,
        contact: str,
        initiated_by: str | None,
        active_key: str | None,
    ) -> tuple[Any, Item | None]:
        """``start`` in ``conn``'s transaction (in a savepoint), for a caller that stores
        more with it (blocking: in a ``write``). ``active_key``: what holds the one
        active execution, when not the contact (the conversation, for a Conversations
        trigger)."""
        while True:
            start, payload = self._start_rows(
                account_sid, flow_sid, trigger, contact, initiated_by, active_key=active_key
            )
            try:
                with conn.begin_nested():
                    saved, item_id = insert_start(conn, **start)
            except flow_store.FlowChanged:
                self.flows.forget(account_sid, flow_sid)
                continue
            except sa.exc.IntegrityError:
                existing = store.find_active(conn, flow_sid, start["row"]["active_contact"])
                if existing is None:
                    continue
                return existing, None
            metrics.execution_started()
            return saved, Item(inputs.START, payload, item_id)

    def _start_rows(
        self,
        account_sid: str,
        flow_sid: str,
        trigger: engine.Trigger,
        contact: str,
        initiated_by: str | None,
        *,
        call: dict[str, Any] | None = None,
        active_key: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What ``insert_start`` stores for a new execution, on the flow as cached now, and
        its trigger's payload."""
        flow_row, cached, flow = self.flows.for_start(account_sid, flow_sid, contact)
        row, item, payload = self._new_rows(
            account_sid, flow, trigger, contact=contact, initiated_by=initiated_by, call=call
        )
        if active_key is not None:
            row["active_contact"] = active_key
        start = {"row": row, "item": item, "call": call, "fresh": flow_row if cached else None}
        return start, payload

    def _new_rows(
        self,
        account_sid: str,
        flow: engine.Flow,
        trigger: engine.Trigger,
        *,
        contact: str,
        initiated_by: str | None,
        call: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A new execution's row, held by this process, its trigger's inbox row, and that
        row's payload (as given to ``drive``, not parsed back)."""
        active = contact
        if call is not None and flow.allow_concurrent_calls:
            active = f"{contact}#{call['sid']}"  # one slot per call, not per caller
        sid = new_sid("FN")
        now, until = self._lease()
        created = now.replace(microsecond=0)
        execution = {
            "sid": sid,
            "account_sid": account_sid,
            "flow_sid": flow.flow_sid,
            "flow_revision": flow.revision,
            "contact_channel_address": contact,
            "contact_sid": "FC" + sid[2:],
            "initiated_by": initiated_by,
            "status": "active",
            "active_contact": active,
            # Studio shows an execution that has not run yet with an empty context.
            "context": "{}",
            "base_context": "{}",
            "engine_state": "{}",
            "version": 1,
            "waiting_for": None,
            "wake_at": None,
            "date_created": created,
            "date_updated": created,
            "lease_owner": self.owner,
            "lease_until": until,
        }
        payload = {
            "trigger": {"event": trigger.event, "payload": trigger.payload},
            "live": call is not None,
        }
        item = {
            "execution_sid": sid,
            "kind": inputs.START,
            "payload": orjson.dumps(payload).decode(),
            "date_created": now,
        }
        return execution, item, payload

    def enqueue(self, conn: sa.Connection, sid: str, kind: str, payload: dict[str, Any]) -> int:
        """Store a resume for ``sid`` in ``conn``'s transaction; its id."""
        return inbox_store.enqueue(conn, sid, kind, orjson.dumps(payload).decode(), precise_now())

    async def deliver(
        self, sid: str, kind: str, payload: dict[str, Any], *, wait: float | None = None
    ) -> Any:
        """Store a resume for ``sid`` and drive the execution; with ``wait``, wait up to that
        many seconds for the resume to be applied. The execution's row then."""
        item_id = await self.write(self.enqueue, sid, kind, payload)
        self.spawn(self.drive(sid))
        if wait is not None:
            return await self.wait_applied(sid, item_id, wait)
        return None

    async def end_execution(self, account_sid: str, flow_sid: str, sid: str) -> Any:
        """``Status=ended``: the execution stops where it is (after what is ahead of it)."""
        with self.db.connect() as conn:
            row = require_execution(conn, account_sid, flow_sid, sid)
        if row.status != "active":
            return row
        await self.deliver(sid, inputs.END, {}, wait=10.0)
        with self.db.connect() as conn:
            return require_execution(conn, account_sid, flow_sid, sid)

    def _reply(
        self, conn: sa.Connection, sid: str, params: dict[str, Any]
    ) -> tuple[str, Any, list[Item] | None]:
        """Store a reply for ``sid`` and, in the same transaction, take the execution if
        nobody holds it (a transaction less than ``drive``'s own claim): what to ``drive``.
        Held elsewhere, ``drive`` tries again once this commits, so that a holder that let
        go meanwhile, without seeing this reply, leaves it to this process."""
        self.enqueue(conn, sid, inputs.REPLY, {"params": params})
        row, items = self._claim(conn, sid)
        return sid, row, items

    def route_message(
        self, conn: sa.Connection, account_sid: str, flow_sid: str, params: dict[str, Any]
    ) -> tuple[str, Any, list[Item] | None] | None:
        """In ``conn``'s transaction (blocking: a ``write``), give a contact's message to the
        execution it belongs to (as a reply) or start one (``incomingMessage``); what to
        ``drive`` then.

        A Conversations message belongs to the conversation's execution: the one active
        execution is per conversation (replies from any participant resume it), and starts
        ``incomingConversationMessage`` with the author as the contact. A conversation a
        Start/Resume Conversation attached to an execution belongs to that one; once it
        ended, its messages start nothing (Studio removes the webhook at the end)."""
        if conversation.is_message(params):
            event, key = "incomingConversationMessage", str(params["ConversationSid"])
            contact = str(params.get("Author") or "")
            attached = conversations.get_conversation(conn, account_sid, key)
            if attached is not None and attached.execution_sid:
                execution = store.get_execution(conn, account_sid, flow_sid, attached.execution_sid)
                if execution is None or execution.status != "active":
                    log.info("conversation %s: its execution %s is over; message ignored",
                             key, attached.execution_sid)  # fmt: skip
                    return None
                return self._reply(conn, execution.sid, params)
        else:
            event, contact = "incomingMessage", params.get("From", "")
            key = contact
        for _attempt in range(3):
            active = store.find_active(conn, flow_sid, key)
            if active is None and event == "incomingMessage":
                active = store.find_call_waiting_for_reply(conn, flow_sid, contact)
            if active is not None:
                return self._reply(conn, active.sid, params)
            try:
                row, item = self.start_in(
                    conn,
                    account_sid,
                    flow_sid,
                    engine.Trigger(event, params),
                    contact=contact,
                    initiated_by=params.get("MessageSid"),
                    active_key=key,
                )
            except TwilioError as exc:
                log.warning("inbound message not started on %s: %s", flow_sid, exc.message)
                return None
            if item is not None:
                return row.sid, row, [item]
        return None
