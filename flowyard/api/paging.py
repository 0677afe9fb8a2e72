"""List envelopes: ``{<key>: [...], "meta": {...}}`` with keyset ``PageToken`` links.

Tokens are ``PA<key>`` (the page after the row with that key) and ``PB<key>`` (the page
before it), after Twilio's own convention; clients treat them as opaque.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from flowyard.api.requests import Params
from flowyard.errors import invalid_parameter
from flowyard.store.paging import Slice, Window

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# Paging keys are 32-bit INTEGER columns; larger numbers would overflow the database driver.
MAX_KEY = 2**31 - 1


def _int_param(params: Params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter(name, "must be an integer") from None
    if value < 0 or (name == "PageSize" and value < 1) or (name == "Page" and value > MAX_KEY):
        raise invalid_parameter(name, "out of range")
    return value


def window_from(params: Params) -> tuple[Window, int, int]:
    """The store window, page size and page number a list request asks for."""
    size = min(_int_param(params, "PageSize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    page = _int_param(params, "Page", 0)
    token = params.get("PageToken")
    if token:
        try:
            key = int(token[2:])
        except ValueError:
            raise invalid_parameter("PageToken", "not a token this server issued") from None
        if not 0 <= key <= MAX_KEY:
            raise invalid_parameter("PageToken", "not a token this server issued")
        if token.startswith("PA"):
            return Window(size, after=key), size, page
        if token.startswith("PB"):
            return Window(size, before=key), size, page
        raise invalid_parameter("PageToken", "not a token this server issued")
    # A page number without a token has no key to start from: fall back to an offset.
    return Window(size, offset=page * size), size, page


def envelope(
    key: str,
    items: list[Any],
    *,
    base: str,
    path: str,
    filters: Sequence[tuple[str, str]],
    params: Params,
    size: int,
    page: int,
    result: Slice,
    key_of: Callable[[Any], int],
) -> dict[str, Any]:
    """The list body; every URL is absolute on ``base`` and carries every filter."""

    def url(page_number: int, token: str | None) -> str:
        query = [*filters, ("PageSize", str(size)), ("Page", str(page_number))]
        if token:
            query.append(("PageToken", token))
        return f"{base}{path}?{urlencode(query)}"

    rows = result.rows
    has_next = result.reversed or result.has_more
    has_previous = bool(rows) and (
        result.has_more if result.reversed else (page > 0 or params.get("PageToken") is not None)
    )
    return {
        key: items,
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": url(0, None),
            "previous_page_url": url(max(page - 1, 0), f"PB{key_of(rows[0])}")
            if has_previous
            else None,
            "url": url(page, params.get("PageToken")),
            "next_page_url": url(page + 1, f"PA{key_of(rows[-1])}") if has_next and rows else None,
            "key": key,
        },
    }


def legacy_envelope(
    key: str,
    items: list[Any],
    *,
    path: str,
    filters: Sequence[tuple[str, str]],
    params: Params,
    size: int,
    page: int,
    result: Slice,
) -> dict[str, Any]:
    """The 2010-04-01 API's list body: relative ``*_uri`` links the SDK resolves itself."""

    def uri(page_number: int, token: str | None) -> str:
        query: list[tuple[str, Any]] = [*filters, ("PageSize", size), ("Page", page_number)]
        if token:
            query.append(("PageToken", token))
        return f"{path}?{urlencode(query)}"

    rows = result.rows
    has_next = (result.reversed or result.has_more) and rows
    has_previous = rows and (result.has_more if result.reversed else page > 0)
    return {
        key: items,
        "start": page * size,
        "end": page * size + max(len(rows) - 1, 0),
        "page": page,
        "page_size": size,
        "uri": uri(page, params.get("PageToken")),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(page + 1, f"PA{rows[-1].id}") if has_next else None,
        "previous_page_uri": uri(max(page - 1, 0), f"PB{rows[0].id}") if has_previous else None,
    }
