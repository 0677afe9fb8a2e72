"""Event Streams: webhook sinks, subscriptions and their types, the outbox of events.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_sinks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sid", sa.String(34), nullable=False, unique=True),
        sa.Column("account_sid", sa.String(34), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("sink_type", sa.String(16), nullable=False),
        sa.Column("configuration", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("test_id", sa.String(34), nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_delivery", sa.DateTime, nullable=True),
        sa.Column("retry_at", sa.DateTime, nullable=True),
        sa.Column("claimed_by", sa.String(80), nullable=True),
        sa.Column("claimed_until", sa.DateTime, nullable=True),
        sa.Column("date_created", sa.DateTime, nullable=False),
        sa.Column("date_updated", sa.DateTime, nullable=False),
    )
    op.create_index("ix_event_sinks_account_id", "event_sinks", ["account_sid", "id"])
    op.create_table(
        "event_subscriptions",
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
    )
    op.create_index(
        "ix_event_subscriptions_account_id", "event_subscriptions", ["account_sid", "id"]
    )
    op.create_table(
        "event_subscribed_types",
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
    )
    op.create_index("ix_event_subscribed_types_account", "event_subscribed_types", ["account_sid"])
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sink_sid", sa.String(34), nullable=False),
        sa.Column("account_sid", sa.String(34), nullable=False),
        sa.Column("execution_sid", sa.String(34), nullable=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("date_created", sa.DateTime, nullable=False),
    )
    op.create_index("ix_event_outbox_sink_id", "event_outbox", ["sink_sid", "id"])


def downgrade() -> None:
    op.drop_table("event_outbox")
    op.drop_table("event_subscribed_types")
    op.drop_table("event_subscriptions")
    op.drop_table("event_sinks")
