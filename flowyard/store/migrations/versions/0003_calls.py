"""Calls and recordings (voice).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
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
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("duration", sa.Integer, nullable=True),
        sa.Column("date_created", sa.DateTime, nullable=False),
        sa.Column("date_updated", sa.DateTime, nullable=False),
    )
    op.create_index("ix_calls_account_id", "calls", ["account_sid", "id"])
    op.create_index("ix_calls_execution", "calls", ["execution_sid"])
    op.create_table(
        "recordings",
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
    )
    op.create_index("ix_recordings_call", "recordings", ["call_sid"])


def downgrade() -> None:
    op.drop_table("recordings")
    op.drop_table("calls")
