"""Outbound HTTP for Make HTTP Request and Run Function: 10 s, 64 kB, redirects followed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from flowyard.platform import Outcome


@dataclass(frozen=True)
class HttpRequest:
    """A fully rendered outbound request."""

    method: str
    url: str
    query: list[tuple[str, str]] = field(default_factory=list)
    form: list[tuple[str, str]] | None = None  # pairs: a key may repeat
    content: str | None = None
    content_type: str | None = None
    timeout: float = 10.0
    max_bytes: int = 64 * 1024
    # When set, the request carries X-Twilio-Signature keyed by this auth token, as Studio's
    # calls do, so Protected Functions and apps that validate webhooks accept it.
    signing_token: str | None = None


class _Pairs:
    """Form pairs seen as the multi-dict ``RequestValidator`` expects (keys may repeat)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for key, _ in self._pairs))

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


async def perform(client: httpx.AsyncClient, request: HttpRequest) -> Outcome:
    """Send the request; a network error, time-out or oversize body is a failed outcome."""
    headers = {"User-Agent": "Flowyard (TwilioProxy compatible)"}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    content = request.content
    if request.form is not None:
        content = urlencode(request.form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        built = client.build_request(
            request.method,
            request.url,
            params=request.query or None,
            content=content.encode() if content is not None else None,
            headers=headers,
            timeout=request.timeout,
        )
        if request.signing_token:
            built.headers["X-Twilio-Signature"] = RequestValidator(
                request.signing_token
            ).compute_signature(str(built.url), _Pairs(request.form or []))
        response = await client.send(built, stream=True, follow_redirects=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > request.max_bytes:
                    return Outcome(
                        False, None, f"Response body exceeds {request.max_bytes} bytes", 81016
                    )
        finally:
            await response.aclose()
    except httpx.InvalidURL as exc:
        return Outcome(False, None, f"Invalid URL: {exc}", 81014)
    except httpx.TimeoutException:
        return Outcome(False, None, f"Request timed out after {request.timeout:g} s", 81016)
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"Request failed: {exc}", 81016)
    return Outcome(
        True,
        {
            "status_code": response.status_code,
            "content_type": response.headers.get("content-type", ""),
            "body": body.decode(response.encoding or "utf-8", errors="replace"),
            "headers": dict(response.headers),
        },
    )
