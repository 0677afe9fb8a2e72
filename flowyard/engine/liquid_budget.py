"""Budgets that keep one Liquid render small and fast whatever the template says.

python-liquid caps the iterations of one loop nest, the output and the locals; a hostile
template still had other ways to make one render take seconds or gigabytes: a range handed
to a filter (``(1..100000000) | join``), a filter that multiplies its input (``replace``,
``join``, ``split``), doubling a string in a loop, squaring a number until it has millions of
digits, or simply thousands of loops one after another. So, per render:

* a template longer than ``MAX_TEMPLATE_CHARS`` is refused before it is parsed (parsing costs
  about 5 µs a character; real Studio templates are a few hundred characters);
* every filter call is checked before it runs: a string over ``MAX_STRING_CHARS``, an array or
  range over ``MAX_ITEMS`` or an integer over ``MAX_INT_BITS`` going in, or a result the
  filter would make too big (``replace``, ``join``, ``split`` are estimated first), fails;
  its result is checked the same way;
* every filter call and every loop iteration spends work units (characters and items
  touched) from ``MAX_WORK``, so many cheap steps add up to a bound too.

Going over any of them raises ``OverBudget``, which the renderer turns into ``TemplateError``
(81018). The figures are deterministic, so a render fails the same way on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import Any

MAX_TEMPLATE_CHARS = 10_000
MAX_STRING_CHARS = 1_000_000
MAX_ITEMS = 10_000
MAX_INT_BITS = 1_024  # 309 decimal digits: more than any ID or amount
# Work is counted in units of about a nanosecond of one core, so a render stops at ~0.15 s.
MAX_WORK = 150_000_000
CALL_WORK = 20_000  # one filter call or loop iteration, whatever its data
ITEM_WORK = 5_000  # one array item touched (filters over arrays run Python code per item)
CHAR_WORK = 20  # one character copied or scanned
# Filters that spend far more on each character: twice the worst measured on hostile text.
_CHAR_WORK = {
    "date": 40_000,
    "strip_html": 12_000,
    "escapejs": 6_000,
    "url_decode": 5_000,
    "url_encode": 2_000,
    "escape_once": 2_000,
    "to_json": 2_000,
    "strip_newlines": 1_000,
    "escape": 400,
    "newline_to_br": 250,
    "lstrip": 200,
    "rstrip": 200,
    "strip": 200,
    "squish": 200,
    "base64_encode": 100,
    "base64_url_safe_encode": 100,
    "capitalize": 100,
    "truncatewords": 100,
}
# python-liquid's ``uniq`` compares every pair (it allows unhashable items).
_PAIR_WORK = {"uniq": 30}


class OverBudget(Exception):
    """A render went over one of its budgets."""


def _work(value: Any, char_work: int = CHAR_WORK) -> int:
    """Work units to touch ``value`` once (shallow: nested data came from the context)."""
    if isinstance(value, str):
        return len(value) * char_work
    if isinstance(value, Sized) and not isinstance(value, bytes | bytearray):
        return len(value) * ITEM_WORK
    return 1


def _check(name: str, value: Any, what: str) -> None:
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            raise OverBudget(
                f"{name}: {what} of {len(value)} characters is over the "
                f"{MAX_STRING_CHARS}-character budget"
            )
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise OverBudget(f"{name}: {what} is a number over the {MAX_INT_BITS}-bit budget")
    elif isinstance(value, list | tuple | range | dict | set) and len(value) > MAX_ITEMS:
        raise OverBudget(
            f"{name}: {what} of {len(value)} items is over the {MAX_ITEMS}-item budget"
        )


def _text(value: Any) -> str | None:
    """The string a string filter would see, when that is cheap to know."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def _result_size(name: str, left: Any, args: tuple[Any, ...]) -> tuple[int, int]:
    """(characters, items) that the filters able to multiply their input would produce."""
    text = _text(left)
    if name == "replace" and text is not None and args:
        old, new = _text(args[0]), _text(args[1]) if len(args) > 1 else ""
        if old is not None and new is not None:
            return len(text) + text.count(old) * max(len(new) - len(old), 0), 0
    if name == "split" and text is not None:
        sep = _text(args[0]) if args else None
        return 0, (len(text) if not sep else text.count(sep) + 1)
    if name == "join" and isinstance(left, list | tuple | range):
        sep = _text(args[0]) if args else " "
        return len(left) * (len(sep or "") + 1), 0
    return 0, 0


class Budget:
    """The work one render may still do; shared by the contexts of that render."""

    def __init__(self, work: int = MAX_WORK) -> None:
        self.left = work

    def spend(self, units: int, what: str) -> None:
        """Spend ``units`` of work; fails once the render has spent its whole budget."""
        self.left -= units
        if self.left < 0:
            raise OverBudget(f"{what}: template over its work budget")

    def loop(self, iterations: int) -> None:
        """Pay for a loop before it runs."""
        self.spend(iterations * CALL_WORK, "for")

    def call(
        self, name: str, func: Callable[..., Any], left: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Run filter ``name`` within the budget: inputs, estimated result, work, result."""
        _check(name, left, "input")
        for arg in (*args, *kwargs.values()):
            _check(name, arg, "argument")
        chars, items = _result_size(name, left, args)
        if chars > MAX_STRING_CHARS:
            raise OverBudget(
                f"{name}: result of {chars} characters would be over the "
                f"{MAX_STRING_CHARS}-character budget"
            )
        if items > MAX_ITEMS:
            raise OverBudget(
                f"{name}: result of {items} items would be over the {MAX_ITEMS}-item budget"
            )
        work = CALL_WORK + _work(left, _CHAR_WORK.get(name, CHAR_WORK))
        work += sum(_work(arg) for arg in args)
        if name in _PAIR_WORK and isinstance(left, Sized):
            work += len(left) ** 2 * _PAIR_WORK[name]
        self.spend(work, name)
        result = func(left, *args, **kwargs)
        _check(name, result, "result")
        self.spend(_work(result), name)
        return result


def budget_of(parent: Any) -> Budget:
    """The budget a new render context uses: its parent's, or a fresh one."""
    inherited = getattr(parent, "budget", None)
    return inherited if isinstance(inherited, Budget) else Budget()
