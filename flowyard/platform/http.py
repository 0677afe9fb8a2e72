"""Outbound HTTP for Make HTTP Request and Run Function: redirects followed, and 10 s and 64 kB
for the whole exchange (connect, every redirect, headers and body), not for each read: a server
that trickles a byte at a time is cut off at the deadline. Where the request may go is the
client's business (``outbound.policy_client``)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from flowyard.platform import Outcome
from flowyard.platform.outbound import DestinationDenied

HTTP_RETRIEVAL = 11200  # Twilio: "HTTP retrieval failure"


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
    # "Authenticate with Twilio": Basic auth with these (account SID, auth token).
    basic_auth: tuple[str, str] | None = None


class _Pairs:
    """Form pairs seen as the multi-dict ``RequestValidator`` expects (keys may repeat)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for key, _ in self._pairs))

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


async def perform(client: httpx.AsyncClient, request: HttpRequest) -> Outcome:
    """Send the request; a network error, time-out, oversize body or a destination the
    policy denies is a failed outcome."""
    # Identity: the body limit is on what is received, so no compressed body to inflate.
    headers = {"User-Agent": "Flowyard (TwilioProxy compatible)", "Accept-Encoding": "identity"}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    content = request.content
    if request.form is not None:
        content = urlencode(request.form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    too_big = Outcome(
        False, None, f"Response body exceeds {request.max_bytes} bytes", HTTP_RETRIEVAL
    )
    if request.basic_auth:
        pair = ":".join(request.basic_auth).encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    try:
        url = httpx.URL(request.url)
        if request.query:
            # Parameters are added to the URL's own query (``?api_key=...`` stays).
            url = url.copy_with(params=[*url.params.multi_items(), *request.query])
        built = client.build_request(
            request.method,
            url,
            content=content.encode() if content is not None else None,
            headers=headers,
            timeout=request.timeout,
        )
        if request.signing_token:
            built.headers["X-Twilio-Signature"] = RequestValidator(
                request.signing_token
            ).compute_signature(str(built.url), _Pairs(request.form or []))
        async with asyncio.timeout(request.timeout):
            response = await client.send(built, stream=True, follow_redirects=True)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > request.max_bytes:
                    return too_big
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > request.max_bytes:
                        return too_big
            finally:
                await response.aclose()
    except httpx.InvalidURL as exc:
        return Outcome(False, None, f"Invalid URL: {exc}", 81014)
    except DestinationDenied as exc:
        return Outcome(False, None, f"Request refused: {exc}", HTTP_RETRIEVAL)
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(
            False, None, f"Request timed out after {request.timeout:g} s", HTTP_RETRIEVAL
        )
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"Request failed: {exc}", HTTP_RETRIEVAL)
    return Outcome(
        True,
        {
            "status_code": response.status_code,
            "content_type": response.headers.get("content-type", ""),
            "body": body.decode(response.encoding or "utf-8", errors="replace"),
            "headers": dict(response.headers),
        },
    )
