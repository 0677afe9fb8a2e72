"""Where Studio's Liquid and python-liquid part ways, and what Flowyard does about it.

Each difference showed up in real flows (docs/fidelity.md has the sources and choices):

* keys named like Liquid keywords (``parsed.offset``, ``data.in``, ``x.limit``) and numeric
  path segments (``items.0``) are plain lookups in Studio; python-liquid's expression lexer
  reads them as keywords and numbers. ``keyword_paths`` rewrites such segments to the bracket
  form (``parsed["offset"]``, ``items[0]``) before parsing;
* Set Variables stores strings, so ``{% if flow.variables.tries > 2 %}`` compares "3" with
  2: Studio does not abort the render. A number-like string is compared as the number it
  spells; any other mixed comparison is false instead of an error;
* ``round`` rounds halves up (2.5 → 3), not to even.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import liquid.builtin.expressions.logical as logical
import liquid.builtin.tags.case_tag as case_tag
from liquid import is_undefined
from liquid.exceptions import LiquidTypeError
from liquid.filter import math_filter, num_arg

# Words python-liquid's expression lexer takes for keywords wherever they appear.
KEYWORDS = frozenset(
    {"true", "false", "nil", "null", "empty", "blank", "and", "or", "not", "contains", "in"}
    | {"offset", "limit", "reversed", "cols", "continue", "with", "for", "as", "if", "else"}
    | {"required"}
)
_MARKUP = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_RAW = re.compile(r"(\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})", re.S)
# A quoted string (left alone), or a path that starts with a name (not a number: 1.5).
_PATH = re.compile(
    r"""("[^"]*"|'[^']*')|(?<![\w.\]-])([A-Za-z_][\w-]*\??)((?:\.[\w-]+\??|\[[^\]]*\])+)"""
)
_SEGMENT = re.compile(r"\.([\w-]+\??)")


def _bracket(segment: re.Match[str]) -> str:
    name = segment.group(1)
    if name.isdigit():
        return f"[{name}]"
    if name in KEYWORDS:
        return f'["{name}"]'
    return segment.group(0)


def _paths(markup: re.Match[str]) -> str:
    def path(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        return match.group(2) + _SEGMENT.sub(_bracket, match.group(3))

    return _PATH.sub(path, markup.group(0))


def keyword_paths(source: str) -> str:
    """``source`` with keyword-named and numeric path segments in bracket form (outside
    strings and ``raw`` blocks); unchanged when it has none."""
    if "." not in source:
        return source
    parts = _RAW.split(source)
    for index in range(0, len(parts), 2):  # odd parts are raw blocks
        parts[index] = _MARKUP.sub(_paths, parts[index])
    return "".join(parts)


# -- comparisons ---------------------------------------------------------------------------

_NUMBER = (int, float, Decimal)


def _as_number(value: Any) -> Any:
    """A number-like string as its number; anything else unchanged."""
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    return value


def _mixed(left: Any, right: Any) -> tuple[Any, Any] | None:
    """A string and a number: both as numbers, or None when the string spells none."""
    if isinstance(left, bool) or isinstance(right, bool):
        return None
    if isinstance(left, str) and isinstance(right, _NUMBER):
        left = _as_number(left)
        return (left, Decimal(str(right))) if isinstance(left, Decimal) else None
    if isinstance(right, str) and isinstance(left, _NUMBER):
        right = _as_number(right)
        return (Decimal(str(left)), right) if isinstance(right, Decimal) else None
    return None


_stock_eq, _stock_lt, _stock_le = logical._eq, logical._lt, logical._le


def _eq(left: object, right: object) -> bool:
    pair = _mixed(left, right)
    return pair[0] == pair[1] if pair else _stock_eq(left, right)


def _lt(token: Any, left: object, right: object) -> bool:
    pair = _mixed(left, right)
    if pair:
        return pair[0] < pair[1]
    try:
        return _stock_lt(token, left, right)
    except LiquidTypeError:
        return False  # "abc" against 2, a list against a number: Studio goes on rendering


def _le(left: object, right: object) -> bool:
    pair = _mixed(left, right)
    return pair[0] <= pair[1] if pair else _stock_le(left, right)


def install_comparisons() -> None:
    """Make python-liquid compare as Studio does. python-liquid looks these functions up as
    module globals at each comparison, and offers no other hook."""
    logical._eq, logical._lt, logical._le = _eq, _lt, _le
    case_tag._eq = _eq


# -- filters -------------------------------------------------------------------------------


@math_filter
def round_half_up(num: Any, ndigits: Any = None) -> Any:
    """``round`` as Studio rounds: halves away from zero (2.5 → 3, 2.45 → 2.5 with 1)."""
    digits = 0 if ndigits is None or is_undefined(ndigits) else num_arg(ndigits, default=0)
    digits = max(int(digits), 0)
    rounded = Decimal(str(num)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return int(rounded) if digits == 0 else float(rounded)
