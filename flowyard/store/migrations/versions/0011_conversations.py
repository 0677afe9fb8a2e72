"""Conversations and their participants: those Start Conversation created, those the flow
webhook heard of, and the execution a widget attached to each.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
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
    )
    op.create_index("ix_conversations_date", "conversations", ["date_created"])
    op.create_index("ix_conversations_execution", "conversations", ["execution_sid"])
    op.create_table(
        "conversation_participants",
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
    )
    op.create_index(
        "ix_conversation_participants_conversation",
        "conversation_participants",
        ["account_sid", "conversation_sid", "id"],
    )
    op.create_index(
        "ix_conversation_participants_date", "conversation_participants", ["date_created"]
    )


def downgrade() -> None:
    op.drop_table("conversation_participants")
    op.drop_table("conversations")
