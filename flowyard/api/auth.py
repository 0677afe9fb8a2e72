"""HTTP Basic authentication: account SID + auth token, or API key SID + secret.

Every refusal is the same 20003/401 whatever went wrong (bad encoding, unknown SID, wrong
secret), so the answer never tells whether an account exists; failures are throttled.
"""

from __future__ import annotations

import base64

from starlette.requests import Request

from flowyard.api.throttle import client_address, throttle_of
from flowyard.errors import unauthenticated

# base64 of a 64-character SID, a colon and a 256-character secret, with room to spare.
MAX_ENCODED = 512


def parse_basic(header: str) -> tuple[str, str] | None:
    """``(username, password)`` from a ``Basic`` header, or None when it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > MAX_ENCODED:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII input
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def account_sid(request: Request) -> str:
    """The account the request's credentials stand for, or 20003/401 (20429/429 throttled)."""
    header = request.headers.get("authorization", "")
    if not header:
        raise unauthenticated()  # nothing was tried, so nothing is counted
    throttle = throttle_of(request)
    address = client_address(request)
    throttle.check(address)
    credentials = parse_basic(header)
    if credentials is None:
        raise throttle.failed(address, None)
    sid = request.app.state.credentials.account_for(*credentials)
    if sid is None:
        raise throttle.failed(address, credentials[0])
    request.state.account_sid = sid  # for the access line (flowyard.api.access_log)
    return sid
