"""Debugger alerts: what went wrong in an execution or at the flow webhook (Monitor API).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sid", sa.String(34), nullable=False, unique=True),
        sa.Column("account_sid", sa.String(34), nullable=False),
        sa.Column("resource_sid", sa.String(34), nullable=True),
        sa.Column("execution_sid", sa.String(34), nullable=True),
        sa.Column("step_sid", sa.String(34), nullable=True),
        sa.Column("widget", sa.String(255), nullable=True),
        sa.Column("error_code", sa.Integer, nullable=False),
        sa.Column("log_level", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("alert_text", sa.Text, nullable=False),
        sa.Column("request_method", sa.String(8), nullable=True),
        sa.Column("request_url", sa.Text, nullable=True),
        sa.Column("request_variables", sa.Text, nullable=True),
        sa.Column("response_body", sa.Text, nullable=True),
        sa.Column("date_generated", sa.DateTime, nullable=False),
        sa.Column("date_created", sa.DateTime, nullable=False),
    )
    op.create_index("ix_alerts_account_id", "alerts", ["account_sid", "id"])
    op.create_index("ix_alerts_resource_id", "alerts", ["resource_sid", "id"])
    op.create_index("ix_alerts_execution", "alerts", ["execution_sid"])


def downgrade() -> None:
    op.drop_table("alerts")
