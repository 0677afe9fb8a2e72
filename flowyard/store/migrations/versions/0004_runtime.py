"""The runtime's durable state: execution leases, the inbox of resumes, webhook receipts.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime, nullable=True))
    op.create_table(
        "inbox",
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
    )
    op.create_index("ix_inbox_execution_id", "inbox", ["execution_sid", "id"])
    op.create_table(
        "webhook_receipts",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("account_sid", sa.String(34), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("content_type", sa.String(64), nullable=True),
        sa.Column("date_created", sa.DateTime, nullable=False),
    )
    op.create_index("ix_webhook_receipts_date", "webhook_receipts", ["date_created"])


def downgrade() -> None:
    op.drop_table("webhook_receipts")
    op.drop_table("inbox")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
