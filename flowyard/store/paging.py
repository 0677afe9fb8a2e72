"""Keyset pagination over a monotonic integer column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from flowyard.store.db import Statement


@dataclass(frozen=True)
class Window:
    """Which slice of an ordered list to read.

    ``after``/``before`` are keys of the row that ended/started the neighbouring page; ``offset``
    is only used when a client asks for a page number without a token.
    """

    size: int
    after: int | None = None
    before: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class Slice:
    rows: list[Any]
    has_more: bool  # rows exist beyond this slice in the direction read
    reversed: bool  # read backwards (a previous-page request)


def _windowed(
    query: sa.Select,
    key: sa.ColumnElement,
    descending: bool,
    after: Any,
    before: Any,
    limit: Any,
    offset: Any,
) -> sa.Select:
    """``query`` narrowed to a window: the one construction both readers below share."""
    if after is not None:
        query = query.where(key < after if descending else key > after)
    if before is not None:
        query = query.where(key > before if descending else key < before)
    backwards = before is not None
    ascending = descending == backwards
    query = query.order_by(key.asc() if ascending else key.desc()).limit(limit)
    return query.offset(offset) if offset is not None else query


def _slice(rows: list[Any], window: Window) -> Slice:
    has_more = len(rows) > window.size
    rows = rows[: window.size]
    backwards = window.before is not None
    if backwards:
        rows.reverse()
    return Slice(rows, has_more, backwards)


def _uses_offset(window: Window) -> bool:
    return bool(window.offset) and window.after is None and window.before is None


def read_window(
    conn: sa.Connection,
    query: sa.Select,
    key: sa.ColumnElement,
    window: Window,
    descending: bool = False,
) -> Slice:
    """Run ``query`` within ``window``, ordered by ``key``; one extra row tells if more exist."""
    windowed = _windowed(
        query,
        key,
        descending,
        window.after,
        window.before,
        window.size + 1,
        window.offset if _uses_offset(window) else None,
    )
    return _slice(list(conn.execute(windowed)), window)


class WindowedSelect:
    """``read_window`` for a query whose own values are ``sa.bindparam`` names.

    Each shape a window can take (first page, page by offset, after a key, before a key,
    both) is built and compiled once, so reading a page generates no SQL. The shapes are the
    statements ``read_window`` would build; the ``window_*`` bind names are reserved.
    """

    def __init__(
        self, query: sa.Select, key: sa.ColumnElement, *, descending: bool = False
    ) -> None:
        after, before = sa.bindparam("window_after"), sa.bindparam("window_before")
        limit, offset = sa.bindparam("window_limit"), sa.bindparam("window_offset")
        self._shapes = {
            (has_after, has_before, has_offset): Statement(
                _windowed(
                    query,
                    key,
                    descending,
                    after if has_after else None,
                    before if has_before else None,
                    limit,
                    offset if has_offset else None,
                )
            )
            for has_after, has_before, has_offset in (
                (False, False, False),
                (False, False, True),
                (True, False, False),
                (False, True, False),
                (True, True, False),
            )
        }

    def read(
        self, target: sa.Connection | sa.Engine, window: Window, params: Mapping[str, Any]
    ) -> Slice:
        """The rows of ``window``; ``target`` as for ``Statement.all``."""
        uses_offset = _uses_offset(window)
        shape = self._shapes[(window.after is not None, window.before is not None, uses_offset)]
        values = {**params, "window_limit": window.size + 1}
        if window.after is not None:
            values["window_after"] = window.after
        if window.before is not None:
            values["window_before"] = window.before
        if uses_offset:
            values["window_offset"] = window.offset
        return _slice(shape.all(target, values), window)
