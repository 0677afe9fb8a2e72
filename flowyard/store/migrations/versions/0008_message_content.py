"""Content Template messages: the outbox keeps the template SID and its variables.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("content_sid", sa.String(34), nullable=True))
        batch.add_column(sa.Column("content_variables", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("content_variables")
        batch.drop_column("content_sid")
