"""Account bootstrap at start and credential checks with a short-lived cache."""

from __future__ import annotations

import hashlib
import time

import sqlalchemy as sa

from flowyard.config import Settings
from flowyard.store import accounts as store
from flowyard.store import write


def bootstrap(db: sa.Engine, settings: Settings) -> store.Account | None:
    """Apply FLOWYARD_ACCOUNT_SID/AUTH_TOKEN, or create a first account on an empty database.

    Returns the account when one was created here, so the caller can show its token once.
    """
    with write(db) as conn:
        if settings.account_sid and settings.auth_token:
            store.upsert_account(conn, settings.account_sid, settings.auth_token)
            return None
        if not store.list_accounts(conn):
            return store.create_account(conn)
    return None


class CredentialCache:
    """Remembers good credentials for a few seconds: a DB read per request would dominate fetch.

    Only successes are cached, keyed by a hash of the password, so a changed token takes effect
    within ``ttl`` seconds and nothing secret is kept in clear.
    """

    def __init__(self, db: sa.Engine, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self._db = db
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[tuple[str, str], tuple[str, float]] = {}

    def account_for(self, username: str, password: str) -> str | None:
        key = (username, hashlib.sha256(password.encode()).hexdigest())
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        account_sid = store.authenticate(self._db, username, password)
        if account_sid is not None:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (account_sid, now + self._ttl)
        return account_sid
