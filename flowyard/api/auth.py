"""HTTP Basic authentication: account SID + auth token, or API key SID + secret."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from flowyard.errors import unauthenticated


def account_sid(request: Request) -> str:
    """The account the request's credentials stand for, or 20003/401."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise unauthenticated()
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthenticated() from None
    if not sep:
        raise unauthenticated()
    sid = request.app.state.credentials.account_for(username, password)
    if sid is None:
        raise unauthenticated()
    return sid
