"""Indexes for retention: what is older than the retention period is found by its date.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_executions_date", "executions", "date_created"),
    ("ix_messages_date", "messages", "date_created"),
    ("ix_tasks_date", "tasks", "date_created"),
    ("ix_calls_date", "calls", "date_created"),
    ("ix_recordings_date", "recordings", "date_created"),
    ("ix_alerts_date", "alerts", "date_generated"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table)
