"""Console sessions: a signed, HttpOnly, SameSite=Strict cookie, and CSRF tokens.

The cookie carries no secret, only ``account|credential|issued|nonce`` and an HMAC keyed by a
hash of the account's auth token. So sessions need no table and work across worker processes,
and rotating an account's auth token ends every console session of that account at once.
Sign-out clears the cookie; a copied cookie stays valid until it expires (``LIFETIME``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from flowyard.errors import TwilioError
from flowyard.store import accounts as account_store

COOKIE = "fy_session"
LOGIN_COOKIE = "fy_login"
PATH = "/console"
LIFETIME = 12 * 3600
CSRF_HEADER = "x-csrf-token"
_KEY_TTL = 5.0


@dataclass(frozen=True)
class Session:
    """Who is signed in: the account, the credential used (AC… or SK…) and the CSRF token."""

    account_sid: str
    credential_sid: str
    issued: int
    csrf: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionKeys:
    """Per-account signing keys derived from the auth token, cached for a few seconds."""

    def __init__(self, db: sa.Engine) -> None:
        self._db = db
        self._cache: dict[str, tuple[bytes, float]] = {}

    def key(self, account_sid: str) -> bytes | None:
        now = time.monotonic()
        hit = self._cache.get(account_sid)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self._db.connect() as conn:
            account = account_store.get_account(conn, account_sid)
        if account is None:
            return None
        key = hashlib.sha256(b"flowyard-console-session\0" + account.auth_token.encode()).digest()
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[account_sid] = (key, now + _KEY_TTL)
        return key


def keys_for(request: Request) -> SessionKeys:
    """The app's key cache, created on first use (the console adds no startup hook)."""
    state = request.app.state
    keys = getattr(state, "console_keys", None)
    if keys is None:
        keys = state.console_keys = SessionKeys(state.db)
    return keys


def _csrf(key: bytes, nonce: str) -> str:
    return _b64(hmac.new(key, b"csrf|" + nonce.encode(), hashlib.sha256).digest())


def issue(key: bytes, account_sid: str, credential_sid: str) -> str:
    """A new cookie value for a successful sign-in."""
    payload = f"{account_sid}|{credential_sid}|{int(time.time())}|{secrets.token_urlsafe(12)}"
    signature = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return f"{_b64(payload.encode())}.{_b64(signature)}"


def read(request: Request) -> Session | None:
    """The request's valid session, or None (missing, forged, expired or token rotated)."""
    raw = request.cookies.get(COOKIE)
    if not raw or "." not in raw:
        return None
    encoded, _, signature = raw.partition(".")
    try:
        payload = _unb64(encoded).decode()
        account_sid, credential_sid, issued, nonce = payload.split("|")
        signature_bytes = _unb64(signature)
        issued_at = int(issued)
    except (ValueError, UnicodeDecodeError):
        return None
    if issued_at + LIFETIME < time.time():
        return None
    key = keys_for(request).key(account_sid)
    if key is None:
        return None
    expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature_bytes):
        return None
    return Session(account_sid, credential_sid, issued_at, _csrf(key, nonce))


def _secure(request: Request) -> bool:
    """HTTPS as seen here, or through the public HTTPS URL a proxy serves us under."""
    public = request.app.state.settings.public_url or ""
    host = request.headers.get("host", "")
    via_public = public.startswith("https://") and public[8:].split("/")[0] == host
    return request.url.scheme == "https" or via_public


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path=PATH, httponly=True, samesite="strict", secure=_secure(request)
    )


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Browsers send Origin on every cross-site POST; "null" only from sandboxes/files.
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def forbidden(message: str) -> TwilioError:
    return TwilioError(403, 20403, message)


def require(request: Request) -> Session:
    """The signed-in session for an API call; unsafe methods must carry the CSRF token."""
    session = read(request)
    if session is None:
        raise TwilioError(401, 20003, "Sign in to the console first")
    if request.method not in ("GET", "HEAD"):
        token = request.headers.get(CSRF_HEADER, "")
        # As bytes: compare_digest refuses str holding non-ASCII, which a header may carry.
        if not same_origin(request) or not hmac.compare_digest(
            token.encode(), session.csrf.encode()
        ):
            raise forbidden("Missing or wrong CSRF token")
    return session
