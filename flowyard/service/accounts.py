"""Account bootstrap at start, credential checks and console session keys (short-lived cache)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

import sqlalchemy as sa

from flowyard.config import Settings
from flowyard.store import accounts as store
from flowyard.store import write

TTL = 2.0
"""Seconds a credential row is trusted in memory: the revocation delay on each process."""
MAX_USERNAME = 64
MAX_PASSWORD = 256
# SIDs are letters and digits; anything else is refused before it reaches the database
# (PostgreSQL rejects NUL in a string with an error, not an empty result).
_SID = re.compile(r"[A-Za-z0-9]{1,64}")
_NOBODY = "0" * 64


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
    """Checks Basic credentials and derives console session keys, reading each SID's row at
    most once per ``ttl`` seconds: a database read per request would dominate a fetch.

    Both hits and misses are cached, as ``(account SID, SHA-256 of the secret)``, so nothing
    secret is kept in clear, hammering one SID costs one read per ``ttl``, and a revoked key
    or a rotated token stops working within ``ttl`` on every process sharing the database.
    """

    def __init__(self, db: sa.Engine, ttl: float = TTL, max_entries: int = 10_000) -> None:
        self._db = db
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[tuple[str, str] | None, float]] = {}

    def _lookup(self, sid: str) -> tuple[str, str] | None:
        if not _SID.fullmatch(sid):
            return None
        now = time.monotonic()
        hit = self._entries.get(sid)
        if hit is not None and hit[1] > now:
            return hit[0]
        found = store.credential(self._db, sid)
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[sid] = (found, now + self._ttl)
        return found

    def account_for(self, username: str, password: str) -> str | None:
        """The account these credentials stand for, or None; the same work either way."""
        if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
            return None
        found = self._lookup(username)
        given = hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()
        # Compared even for an unknown SID, so the time taken does not tell it exists.
        ok = hmac.compare_digest(given, found[1] if found else _NOBODY)
        return found[0] if found and ok else None

    def session_key(self, account_sid: str, credential_sid: str) -> bytes | None:
        """The key signing console sessions opened with this credential for this account.

        Derived from the credential's secret digest: revoking the key or rotating the token
        changes or removes it, which ends those sessions.
        """
        found = self._lookup(credential_sid)
        if found is None or found[0] != account_sid:
            return None
        material = f"flowyard-console-session\0{account_sid}\0{credential_sid}\0{found[1]}"
        return hashlib.sha256(material.encode()).digest()
