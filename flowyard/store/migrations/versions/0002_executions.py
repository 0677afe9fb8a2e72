"""Executions, steps, the local outbox and local tasks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sid", sa.String(34), nullable=False, unique=True),
        sa.Column("account_sid", sa.String(34), nullable=False),
        sa.Column(
            "flow_sid",
            sa.String(34),
            sa.ForeignKey("flows.sid", ondelete="CASCADE"),
            nullable=False,
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
    )
    op.create_index("ix_executions_flow_id", "executions", ["flow_sid", "id"])
    op.create_index(
        "ux_executions_active_contact", "executions", ["flow_sid", "active_contact"], unique=True
    )
    op.create_index("ix_executions_wake_at", "executions", ["wake_at"])
    op.create_table(
        "steps",
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
    )
    op.create_index("ix_steps_execution_id", "steps", ["execution_sid", "id"])
    op.create_table(
        "messages",
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
    )
    op.create_index("ix_messages_account_id", "messages", ["account_sid", "id"])
    op.create_table(
        "tasks",
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
    )


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("messages")
    op.drop_table("steps")
    op.drop_table("executions")
