"""Keyset pagination over a monotonic integer column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


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


def read_window(
    conn: sa.Connection,
    query: sa.Select,
    key: sa.ColumnElement,
    window: Window,
    descending: bool = False,
) -> Slice:
    """Run ``query`` within ``window``, ordered by ``key``; one extra row tells if more exist."""
    forward_order = key.desc() if descending else key.asc()
    backward_order = key.asc() if descending else key.desc()
    backwards = window.before is not None
    if window.after is not None:
        query = query.where(key < window.after if descending else key > window.after)
    if backwards:
        query = query.where(key > window.before if descending else key < window.before)
    query = query.order_by(backward_order if backwards else forward_order).limit(window.size + 1)
    if window.offset and window.after is None and not backwards:
        query = query.offset(window.offset)
    rows = list(conn.execute(query))
    has_more = len(rows) > window.size
    rows = rows[: window.size]
    if backwards:
        rows.reverse()
    return Slice(rows, has_more, backwards)
