"""Console sessions: a signed, HttpOnly, SameSite=Strict cookie, and CSRF tokens.

The cookie carries no secret, only ``account|credential|issued|nonce`` and an HMAC keyed by a
hash of the secret of the credential that signed in (the account's auth token, or the API
key's secret). So sessions need no table and work across worker processes, and rotating the
token or revoking the key ends every session it opened on every process within the
credential cache's TTL (``flowyard.service.accounts.TTL``, 2 s). Sign-out clears the cookie;
a copied cookie stays valid until it expires (``LIFETIME``) or its credential changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from flowyard.errors import TwilioError

COOKIE = "fy_session"
LOGIN_COOKIE = "fy_login"
PATH = "/console"
LIFETIME = 12 * 3600
CSRF_HEADER = "x-csrf-token"


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


def session_key(request: Request, account_sid: str, credential_sid: str) -> bytes | None:
    """The signing key of sessions opened with this credential, None once it is gone."""
    return request.app.state.credentials.session_key(account_sid, credential_sid)


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
    key = session_key(request, account_sid, credential_sid)
    if key is None:
        return None
    expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature_bytes):
        return None
    return Session(account_sid, credential_sid, issued_at, _csrf(key, nonce))


def _secure(request: Request) -> bool:
    """HTTPS as seen here, or through the public HTTPS URL a proxy serves us under."""
    public = request.app.state.settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


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


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of two strings, any characters (str comparison takes ASCII only)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def forbidden(message: str) -> TwilioError:
    return TwilioError(403, 20403, message)


def require(request: Request) -> Session:
    """The signed-in session for an API call; unsafe methods must carry the CSRF token."""
    session = read(request)
    if session is None:
        raise TwilioError(401, 20003, "Sign in to the console first")
    if request.method not in ("GET", "HEAD"):
        token = request.headers.get(CSRF_HEADER, "")
        if not same_origin(request) or not same_secret(token, session.csrf):
            raise forbidden("Missing or wrong CSRF token")
    return session
