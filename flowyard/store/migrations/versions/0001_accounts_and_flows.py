"""Accounts, API keys, flows and their revisions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("sid", sa.String(34), primary_key=True),
        sa.Column("friendly_name", sa.String(255), nullable=False),
        sa.Column("auth_token", sa.String(64), nullable=False),
        sa.Column("date_created", sa.DateTime, nullable=False),
        sa.Column("date_updated", sa.DateTime, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("sid", sa.String(34), primary_key=True),
        sa.Column(
            "account_sid",
            sa.String(34),
            sa.ForeignKey("accounts.sid", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("friendly_name", sa.String(255), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("date_created", sa.DateTime, nullable=False),
    )
    op.create_table(
        "flows",
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
    )
    op.create_index("ix_flows_account_id", "flows", ["account_sid", "id"])
    op.create_table(
        "flow_revisions",
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
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("commit_message", sa.Text, nullable=True),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("errors", sa.Text, nullable=False, server_default="[]"),
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("date_created", sa.DateTime, nullable=False),
        sa.Column("date_updated", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flow_revisions")
    op.drop_table("flows")
    op.drop_table("api_keys")
    op.drop_table("accounts")
