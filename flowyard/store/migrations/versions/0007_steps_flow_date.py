"""An index on steps (flow_sid, date_created): the console's traffic view reads a flow's steps
in a period (per widget and per transition) without scanning every flow's steps.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_steps_flow_date", "steps", ["flow_sid", "date_created"])


def downgrade() -> None:
    op.drop_index("ix_steps_flow_date", table_name="steps")
