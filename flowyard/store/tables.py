"""The schema, as SQLAlchemy Core tables. Alembic migrations create exactly these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    # Kept in clear: webhook signatures are HMACs keyed by the token itself.
    sa.Column("auth_token", sa.String(64), nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column(
        "account_sid",
        sa.String(34),
        sa.ForeignKey("accounts.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    # Only a SHA-256 of the secret is stored; the secret is shown once.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
)

flows = sa.Table(
    "flows",
    metadata,
    # A monotonic key for keyset pagination; SIDs are random.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("published_revision", sa.Integer, nullable=True),
    sa.Column("commit_message", sa.Text, nullable=True),
    sa.Column("test_users", sa.Text, nullable=False, server_default="[]"),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.Index("ix_flows_account_id", "account_sid", "id"),
)

flow_revisions = sa.Table(
    "flow_revisions",
    metadata,
    sa.Column(
        "flow_sid",
        sa.String(34),
        sa.ForeignKey("flows.sid", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("author_sid", sa.String(34), nullable=True),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # Compact JSON text: responses embed it without parsing it again.
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("commit_message", sa.Text, nullable=True),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("errors", sa.Text, nullable=False, server_default="[]"),
    sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column(
        "flow_sid", sa.String(34), sa.ForeignKey("flows.sid", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("flow_revision", sa.Integer, nullable=False),
    sa.Column("contact_channel_address", sa.String(255), nullable=False),
    sa.Column("contact_sid", sa.String(34), nullable=False),
    sa.Column("initiated_by", sa.String(34), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    # The contact while the execution is active, else NULL: a unique index on
    # (flow_sid, active_contact) allows one active execution per contact and any number ended.
    sa.Column("active_contact", sa.String(255), nullable=True),
    sa.Column("context", sa.Text, nullable=False),
    sa.Column("base_context", sa.Text, nullable=False),
    sa.Column("engine_state", sa.Text, nullable=False),
    # Bumped by every committed sprint; a commit that finds another version lost a race.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("waiting_for", sa.String(32), nullable=True),
    sa.Column("wake_at", sa.DateTime, nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    # Who runs the execution's sprints, and until when: one process at a time, and a lease
    # that runs out (its holder died) lets another process take over.
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.DateTime, nullable=True),
    sa.Index("ix_executions_flow_id", "flow_sid", "id"),
    sa.Index("ux_executions_active_contact", "flow_sid", "active_contact", unique=True),
    sa.Index("ix_executions_wake_at", "wake_at"),
    sa.Index("ix_executions_date", "date_created"),
)

steps = sa.Table(
    "steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column(
        "execution_sid",
        sa.String(34),
        sa.ForeignKey("executions.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("flow_sid", sa.String(34), nullable=False),
    sa.Column("parent_step_sid", sa.String(34), nullable=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("transitioned_from", sa.String(255), nullable=False),
    sa.Column("transitioned_to", sa.String(255), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    # What the step changed in the context: a step's context is rebuilt from the
    # execution's base context and the patches up to it, not stored whole (O(n²) bytes).
    sa.Column("patch", sa.Text, nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Index("ix_steps_execution_id", "execution_sid", "id"),
    # The console's traffic view: a flow's steps in a period.
    sa.Index("ix_steps_flow_date", "flow_sid", "date_created"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("execution_sid", sa.String(34), nullable=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("from_", sa.String(255), nullable=False),
    sa.Column("to", sa.String(255), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("media_urls", sa.Text, nullable=False, server_default="[]"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("messaging_service_sid", sa.String(34), nullable=True),
    sa.Column("num_segments", sa.Integer, nullable=False, server_default="1"),
    sa.Column("error_code", sa.Integer, nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    # A Content Template message: the template and its variables (JSON object).
    sa.Column("content_sid", sa.String(34), nullable=True),
    sa.Column("content_variables", sa.Text, nullable=True),
    sa.Index("ix_messages_account_id", "account_sid", "id"),
    sa.Index("ix_messages_date", "date_created"),
)

# Messages of Conversations the flows talk in (the local Conversations Message resource):
# the contacts' messages the flow webhook received and the flows' posts, in ``id`` order.
conversation_messages = sa.Table(
    "conversation_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("conversation_sid", sa.String(34), nullable=False),
    sa.Column("execution_sid", sa.String(34), nullable=True),  # set on a flow's posts
    sa.Column("direction", sa.String(16), nullable=False),  # inbound | outbound
    sa.Column("index", sa.Integer, nullable=False),
    sa.Column("author", sa.String(255), nullable=False),
    sa.Column("participant_sid", sa.String(34), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
    sa.Column("source", sa.String(32), nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.Index("ix_conversation_messages_conversation", "account_sid", "conversation_sid", "id"),
    sa.Index("ix_conversation_messages_date", "date_created"),
)

# Conversations the flows talk in: created by Start Conversation, or first heard of on the
# flow webhook; ``execution_sid`` is the execution a Start/Resume Conversation attached.
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("chat_service_sid", sa.String(34), nullable=True),
    sa.Column("messaging_service_sid", sa.String(34), nullable=True),
    sa.Column("friendly_name", sa.String(256), nullable=True),
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("timers", sa.Text, nullable=False, server_default="{}"),
    sa.Column("execution_sid", sa.String(34), nullable=True),
    sa.Column("webhook_sid", sa.String(34), nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.UniqueConstraint("account_sid", "sid", name="uq_conversations_account_sid"),
    sa.Index("ix_conversations_date", "date_created"),
    sa.Index("ix_conversations_execution", "execution_sid"),
)

conversation_participants = sa.Table(
    "conversation_participants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("conversation_sid", sa.String(34), nullable=False),
    sa.Column("identity", sa.String(255), nullable=True),
    sa.Column("address", sa.String(255), nullable=True),
    sa.Column("proxy_address", sa.String(255), nullable=True),
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.UniqueConstraint("account_sid", "sid", name="uq_conversation_participants_sid"),
    sa.Index("ix_conversation_participants_conversation", "account_sid", "conversation_sid", "id"),
    sa.Index("ix_conversation_participants_date", "date_created"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("execution_sid", sa.String(34), nullable=True),
    sa.Column("workflow_sid", sa.String(64), nullable=True),
    sa.Column("task_channel", sa.String(64), nullable=True),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("priority", sa.Integer, nullable=True),
    sa.Column("timeout", sa.Integer, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Index("ix_tasks_date", "date_created"),
)

# Calls the flows answered or placed (the local Calls resource, and how a CallSid finds its
# execution on every webhook) and the recordings started on them.
calls = sa.Table(
    "calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("flow_sid", sa.String(34), nullable=True),
    sa.Column("execution_sid", sa.String(34), nullable=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("from_", sa.String(255), nullable=False),
    sa.Column("to", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("answered_by", sa.String(32), nullable=True),
    sa.Column("url", sa.Text, nullable=True),
    # The placing options (AMD, recording, timeout...) as JSON.
    sa.Column("options", sa.Text, nullable=False, server_default="{}"),
    sa.Column("duration", sa.Integer, nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.Index("ix_calls_account_id", "account_sid", "id"),
    sa.Index("ix_calls_execution", "execution_sid"),
    sa.Index("ix_calls_date", "date_created"),
)

recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("call_sid", sa.String(34), nullable=False),
    sa.Column("execution_sid", sa.String(34), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("channels", sa.Integer, nullable=False, server_default="1"),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("duration", sa.Integer, nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.Index("ix_recordings_call", "call_sid"),
    sa.Index("ix_recordings_date", "date_created"),
)

# Resumes accepted for an execution and not applied yet (a reply, a status callback, an API
# end, a call's callback, and the trigger of an execution not started): applied in ``id``
# order by whoever holds the execution's lease, each deleted by the commit that applies it.
inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "execution_sid",
        sa.String(34),
        sa.ForeignKey("executions.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Index("ix_inbox_execution_id", "execution_sid", "id"),
)

# The first answer to each webhook Twilio may send again (its retries carry the same
# I-Twilio-Idempotency-Token): a replay gets this answer and changes nothing. ``status`` is
# NULL while the first request is still being answered.
webhook_receipts = sa.Table(
    "webhook_receipts",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("content_type", sa.String(64), nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Index("ix_webhook_receipts_date", "date_created"),
)

# Debugger alerts (Monitor API): no foreign keys, an alert outlives what it is about.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("resource_sid", sa.String(34), nullable=True),  # the flow
    sa.Column("execution_sid", sa.String(34), nullable=True),
    sa.Column("step_sid", sa.String(34), nullable=True),
    sa.Column("widget", sa.String(255), nullable=True),
    sa.Column("error_code", sa.Integer, nullable=False),
    sa.Column("log_level", sa.String(8), nullable=False),
    sa.Column("message", sa.Text, nullable=False),  # the readable part of alert_text
    sa.Column("alert_text", sa.Text, nullable=False),
    sa.Column("request_method", sa.String(8), nullable=True),
    sa.Column("request_url", sa.Text, nullable=True),
    sa.Column("request_variables", sa.Text, nullable=True),
    sa.Column("response_body", sa.Text, nullable=True),
    sa.Column("date_generated", sa.DateTime, nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Index("ix_alerts_account_id", "account_sid", "id"),
    sa.Index("ix_alerts_resource_id", "resource_sid", "id"),
    sa.Index("ix_alerts_execution", "execution_sid"),
    sa.Index("ix_alerts_date", "date_generated"),
)

# Event Streams (docs/event-streams.md): webhook sinks, subscriptions to event types, and the
# outbox of events waiting for their sink, written in the transaction of what they describe.
event_sinks = sa.Table(
    "event_sinks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("sink_type", sa.String(16), nullable=False),
    sa.Column("configuration", sa.Text, nullable=False),  # JSON, as given (normalised)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("test_id", sa.String(34), nullable=True),  # the last Test's event id
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),  # in a row
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_delivery", sa.DateTime, nullable=True),
    sa.Column("retry_at", sa.DateTime, nullable=True),  # backing off until then
    # The process delivering to this sink, until when (a dead one's claim runs out).
    sa.Column("claimed_by", sa.String(80), nullable=True),
    sa.Column("claimed_until", sa.DateTime, nullable=True),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.Index("ix_event_sinks_account_id", "account_sid", "id"),
)

event_subscriptions = sa.Table(
    "event_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sid", sa.String(34), nullable=False, unique=True),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column(
        "sink_sid",
        sa.String(34),
        sa.ForeignKey("event_sinks.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
    sa.Index("ix_event_subscriptions_account_id", "account_sid", "id"),
)

event_subscribed_types = sa.Table(
    "event_subscribed_types",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "subscription_sid",
        sa.String(34),
        sa.ForeignKey("event_subscriptions.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("type", sa.String(128), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("subscription_sid", "type", name="uq_event_subscribed_types"),
    sa.Index("ix_event_subscribed_types_account", "account_sid"),
)

# One row per sprint and sink, in commit order (``id``); deleted once the sink took it all. No
# foreign keys: an event outlives the execution it describes (retention may delete that).
event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sink_sid", sa.String(34), nullable=False),
    sa.Column("account_sid", sa.String(34), nullable=False),
    # Events of one execution go out in order; others (a sink test) have no such key.
    sa.Column("execution_sid", sa.String(34), nullable=True),
    # A sprint's events for this sink, one CloudEvent (JSON) a line, serialised once; the
    # first ``sent`` of them were taken already (a sink taking one event per request).
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Index("ix_event_outbox_sink_id", "sink_sid", "id"),
)
