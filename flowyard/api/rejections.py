"""Why a flow webhook request was refused for its ``X-Twilio-Signature``, as one log line.

The signature covers the exact URL Twilio called, so behind a proxy or a tunnel the usual
cause is a URL mismatch: the line names the URL the signature was checked against and, from
``FLOWYARD_PUBLIC_URL`` and the request's ``Host``/``X-Forwarded-*`` headers, what to change.
Never the signature or the auth token; query values are left out (a GET webhook carries the
message in its query).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request

from flowyard.logs import printable

log = logging.getLogger("flowyard.webhook")

REASONS = {
    "missing": "no X-Twilio-Signature header",
    "mismatch": "X-Twilio-Signature does not match",
}
# Header values are the client's: only a plain host[:port] is repeated in a hint.
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def log_rejected(request: Request, url: str, reason: str) -> None:
    """One WARNING: which request, ``reason`` (a key of ``REASONS``), the URL it was checked
    against and a hint."""
    public_url = request.app.state.settings.public_url
    checked = _without_query_values(url)
    hint = _hint(request, url, public_url, reason)
    log.warning(
        "rejected webhook %s %s: %s; signature checked against %s (%s). %s",
        request.method,
        printable(request.url.path),
        REASONS[reason],
        checked,
        "FLOWYARD_PUBLIC_URL" if public_url else "the URL this request reached",
        hint,
        extra={
            "reason": reason,
            "checked_url": checked,
            "public_url": public_url,
            "account_sid": request.path_params.get("account"),
            "flow_sid": request.path_params.get("flow"),
        },
    )


def _hint(request: Request, url: str, public_url: str | None, reason: str) -> str:
    base = _base(url)
    apparent = _apparent_base(request)
    path = printable(request.url.path)
    if apparent and apparent != base:
        return (
            f"The proxy headers say this request was for {apparent}{path}: if that is the URL "
            f"Twilio calls, set FLOWYARD_PUBLIC_URL={apparent}"
        )
    if not public_url:
        return (
            "FLOWYARD_PUBLIC_URL is not set: if Twilio calls another URL (through a proxy or "
            f"a tunnel, e.g. https://flows.example.com{path}), set FLOWYARD_PUBLIC_URL to its "
            "base (https://flows.example.com)"
        )
    if reason == "missing":
        return "The request was not signed: it did not come from Twilio, or a proxy dropped it"
    return (
        "If that is exactly the URL Twilio calls, the request was signed with another auth "
        "token than the account's (was it rotated?)"
    )


def _apparent_base(request: Request) -> str | None:
    """``scheme://host`` from ``X-Forwarded-Proto``/``X-Forwarded-Host``, when a proxy sent
    either (uvicorn applies the first only for FORWARDED_ALLOW_IPS, never the second)."""
    proto = _first(request.headers.get("x-forwarded-proto")).lower()
    host = _first(request.headers.get("x-forwarded-host"))
    if not proto and not host:
        return None
    proto = proto if proto in ("http", "https") else request.url.scheme
    host = host or request.headers.get("host", "")
    if not _HOST.fullmatch(host):
        return None
    return _base(f"{proto}://{host}")


def _first(value: str | None) -> str:
    return (value or "").split(",")[0].strip()


def _base(url: str) -> str:
    """``scheme://host[:port]``, the port left out when it is the scheme's default."""
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
    if default and netloc.endswith(default):
        netloc = netloc.removesuffix(default)
    return f"{parts.scheme}://{netloc}"


def _without_query_values(url: str) -> str:
    """``url`` with each query value replaced by ``…``; the names show the URL's shape."""
    base, _, query = url.partition("?")
    base = printable(base)
    if not query:
        return base
    names = [printable(name) for name, _ in parse_qsl(query, keep_blank_values=True)]
    return base + "?" + "&".join(f"{name}=…" for name in names)
