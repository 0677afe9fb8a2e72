"""Accounts and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from flowyard.sids import new_sid
from flowyard.store.clock import utcnow
from flowyard.store.db import Statement
from flowyard.store.tables import accounts, api_keys

# Read on every credential-cache miss and every webhook: prebuilt (see flowyard.store.db).
_ACCOUNT = Statement(sa.select(accounts).where(accounts.c.sid == sa.bindparam("sid")), "AccountRow")
_ACCOUNT_TOKEN = Statement(
    sa.select(accounts.c.auth_token).where(accounts.c.sid == sa.bindparam("sid")), "Token"
)
_API_KEY = Statement(
    sa.select(api_keys.c.account_sid, api_keys.c.secret_hash).where(
        api_keys.c.sid == sa.bindparam("sid")
    ),
    "ApiKey",
)


@dataclass(frozen=True)
class Account:
    sid: str
    friendly_name: str
    auth_token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_account(
    conn: sa.Connection,
    friendly_name: str = "Flowyard account",
    sid: str | None = None,
    auth_token: str | None = None,
) -> Account:
    """Insert an account; SID and token are generated unless given."""
    # Microseconds kept so `accounts list` shows creation order within one second.
    now = datetime.now(UTC).replace(tzinfo=None)
    account = Account(sid or new_sid("AC"), friendly_name, auth_token or secrets.token_hex(16))
    conn.execute(
        accounts.insert().values(
            sid=account.sid,
            friendly_name=account.friendly_name,
            auth_token=account.auth_token,
            date_created=now,
            date_updated=now,
        )
    )
    return account


def upsert_account(conn: sa.Connection, sid: str, auth_token: str) -> Account:
    """Create the account or set its token (used for FLOWYARD_ACCOUNT_SID/AUTH_TOKEN)."""
    row = conn.execute(sa.select(accounts).where(accounts.c.sid == sid)).first()
    if row is None:
        return create_account(conn, "Flowyard account", sid=sid, auth_token=auth_token)
    conn.execute(
        accounts.update()
        .where(accounts.c.sid == sid)
        .values(auth_token=auth_token, date_updated=utcnow())
    )
    return Account(sid, row.friendly_name, auth_token)


def list_accounts(conn: sa.Connection) -> list[Account]:
    rows = conn.execute(sa.select(accounts).order_by(accounts.c.date_created, accounts.c.sid))
    return [Account(r.sid, r.friendly_name, r.auth_token) for r in rows]


def get_account(conn: sa.Connection | sa.Engine, sid: str) -> Account | None:
    row = _ACCOUNT.first(conn, {"sid": sid})
    return Account(row.sid, row.friendly_name, row.auth_token) if row else None


def create_api_key(
    conn: sa.Connection, account_sid: str, friendly_name: str = ""
) -> tuple[str, str]:
    """Insert an API key for the account; returns ``(SK… sid, secret)``, the secret only now."""
    sid, secret = new_sid("SK"), secrets.token_urlsafe(24)
    conn.execute(
        api_keys.insert().values(
            sid=sid,
            account_sid=account_sid,
            friendly_name=friendly_name,
            secret_hash=_hash(secret),
            date_created=utcnow(),
        )
    )
    return sid, secret


@dataclass(frozen=True)
class ApiKey:
    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime


def list_api_keys(conn: sa.Connection, account_sid: str) -> list[ApiKey]:
    """The account's keys, oldest first (secrets are never stored, so never shown)."""
    rows = conn.execute(
        sa.select(api_keys)
        .where(api_keys.c.account_sid == account_sid)
        .order_by(api_keys.c.date_created, api_keys.c.sid)
    )
    return [ApiKey(r.sid, r.account_sid, r.friendly_name, r.date_created) for r in rows]


def delete_api_key(conn: sa.Connection, sid: str) -> bool:
    """Revoke a key; False when there was no such key."""
    return conn.execute(api_keys.delete().where(api_keys.c.sid == sid)).rowcount > 0


def rotate_token(conn: sa.Connection, sid: str) -> str | None:
    """Give the account a fresh auth token and return it, or None for an unknown account."""
    token = secrets.token_hex(16)
    updated = conn.execute(
        accounts.update()
        .where(accounts.c.sid == sid)
        .values(auth_token=token, date_updated=utcnow())
    )
    return token if updated.rowcount else None


def credential(conn: sa.Connection | sa.Engine, sid: str) -> tuple[str, str] | None:
    """``(account SID, SHA-256 hex of the secret)`` for an AC… or SK… SID, or None."""
    if sid.startswith("AC"):
        row = _ACCOUNT_TOKEN.first(conn, {"sid": sid})
        return (sid, _hash(row.auth_token)) if row is not None else None
    if sid.startswith("SK"):
        row = _API_KEY.first(conn, {"sid": sid})
        return (row.account_sid, row.secret_hash) if row is not None else None
    return None
