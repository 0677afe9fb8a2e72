"""What Make HTTP Request and Run Function share: parameters, and reading the response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..io import CallResult
from ..liquid import stringify
from .base import WidgetRun, load_json

HTTP_WIDGET_ERROR = 81014
HTTP_FAILED = 11200  # Twilio: "HTTP retrieval failure"


def pairs(run: WidgetRun, items: Any) -> list[list[str]]:
    """Rendered ``[{key, value}]`` parameters as ``[key, value]`` pairs (repeats allowed)."""
    result: list[list[str]] = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and item.get("key") not in (None, ""):
            value = item.get("value")
            result.append([str(item["key"]), run.render(value) if value is not None else ""])
    return result


def valid_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def response_outputs(run: WidgetRun, result: CallResult) -> tuple[bool, dict[str, Any], str | None]:
    """(2xx?, outputs, failure message) for an HTTP-like service result.

    Outputs are ``status_code``, ``content_type``, ``body`` and, for a JSON object body
    served as JSON, ``parsed`` (SARA-VCR; not for one nested over ``MAX_JSON_DEPTH``).
    Transport failures and bodies over the size limit give no outputs at all (AI-SKILL).
    """
    if not result.ok or result.data is None:
        return False, {}, result.error or "request failed"
    data = result.data
    body = data.get("body")
    body = "" if body is None else stringify(body)
    if len(body.encode("utf-8", "replace")) > run.env.http_max_bytes:
        return False, {}, f"response body exceeds {run.env.http_max_bytes} bytes"
    try:
        status = int(data.get("status_code") or 0)
    except (TypeError, ValueError):
        status = 0
    content_type = str(data.get("content_type") or "")
    outputs: dict[str, Any] = {
        "status_code": status,
        "content_type": content_type,
        "body": body,
    }
    if body and _is_json(content_type):
        try:
            parsed = load_json(body)
        except ValueError:
            parsed = None
        # Studio parses JSON objects only; a top-level array stays in ``body``.
        if isinstance(parsed, dict):
            outputs["parsed"] = parsed
    ok = 200 <= status < 300
    return ok, outputs, None if ok else f"HTTP {status}"


def base_request(run: WidgetRun, method: str, url: str) -> dict[str, Any]:
    return {
        "method": method,
        "url": url,
        "query": [],
        "form": None,
        "content": None,
        "content_type": None,
        "timeout": run.env.http_timeout,
        "max_bytes": run.env.http_max_bytes,
    }
