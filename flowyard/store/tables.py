"""The schema, as SQLAlchemy Core tables. Alembic migrations create exactly these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    # Kept in clear: webhook signatures are HMACs keyed by the token itself.
    sa.Column("auth_token", sa.String(64), nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column(
        "account_sid", sa.String(34), sa.ForeignKey("accounts.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    # Only a SHA-256 of the secret is stored; the secret is shown once.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("date_created", sa.DateTime, nullable=False),
)

flows = sa.Table(
    "flows",
    metadata,
    # A monotonic key for keyset pagination; SIDs are random.
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
    sa.Index("ix_flows_account_id", "account_sid", "id"),
)

flow_revisions = sa.Table(
    "flow_revisions",
    metadata,
    sa.Column(
        "flow_sid", sa.String(34), sa.ForeignKey("flows.sid", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account_sid", sa.String(34), nullable=False),
    sa.Column("author_sid", sa.String(34), nullable=True),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # Compact JSON text: responses embed it without parsing it again.
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("commit_message", sa.Text, nullable=True),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("errors", sa.Text, nullable=False, server_default="[]"),
    sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
    sa.Column("date_created", sa.DateTime, nullable=False),
    sa.Column("date_updated", sa.DateTime, nullable=False),
)
