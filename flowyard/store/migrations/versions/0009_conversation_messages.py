"""Conversations messages: what contacts said in a conversation and what flows posted to it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sid", sa.String(34), nullable=False, unique=True),
        sa.Column("account_sid", sa.String(34), nullable=False),
        sa.Column("conversation_sid", sa.String(34), nullable=False),
        sa.Column("execution_sid", sa.String(34), nullable=True),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("participant_sid", sa.String(34), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("date_created", sa.DateTime, nullable=False),
        sa.Column("date_updated", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_conversation_messages_conversation",
        "conversation_messages",
        ["account_sid", "conversation_sid", "id"],
    )
    op.create_index("ix_conversation_messages_date", "conversation_messages", ["date_created"])


def downgrade() -> None:
    op.drop_table("conversation_messages")
