"""An index on steps (flow_sid, date_created): the console's traffic view reads a flow's steps
in a period (per widget and per transition) without scanning every flow's steps.

Numbered 0008 on its branch (0006 and 0007 may land first from other branches); it revises
0005 here, and whoever merges renumbers it onto the last migration.

Revision ID: 0008
Revises: 0005
"""

from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_steps_flow_date", "steps", ["flow_sid", "date_created"])


def downgrade() -> None:
    op.drop_index("ix_steps_flow_date", table_name="steps")
