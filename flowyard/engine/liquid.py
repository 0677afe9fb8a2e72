"""Liquid as Studio renders it (studio-runtime.md 4), on python-liquid 2.

Differences from stock python-liquid, each because Studio behaves so:

* undefined variables render as an empty string and never raise;
* objects and arrays output as compact JSON (``{{widgets.http.parsed}}``), and a
  ``to_json`` filter exists;
* ``date`` reads ``"now"``/``"today"`` from the injected clock in Studio's time zone
  (America/Los_Angeles) and epoch numbers in that zone too;
* each loop may run at most 15 iterations (nested loops are bounded by the render's work
  budget), and locals and output are capped so a hostile template cannot exhaust memory;
  template length, filter inputs and results, and the work of one render are budgeted too
  (``liquid_budget``);
* unknown filters are ignored, as lax Liquid does, rather than failing the widget;
* keyword-named keys, numeric path segments, string/number comparisons and ``round`` behave
  as in Studio (``liquid_compat``).

Any failure surfaces as ``TemplateError`` (Studio runtime error 81018). Parsed templates are
cached by source text; a template made only of text and ``{{ a.b.c }}`` paths is rendered
without the Liquid interpreter, which is most templates in real flows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, partial
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import liquid
from dateutil import parser as date_parser
from liquid import is_undefined
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags.echo_tag import EchoNode, EchoTag
from liquid.exceptions import LoopIterationLimitError
from liquid.filter import with_environment

from .liquid_budget import MAX_TEMPLATE_CHARS, budget_of
from .liquid_compat import install_comparisons, keyword_paths, round_half_up

LIQUID_ERROR_CODE = 81018
# Memory guards for hostile templates (bytes of locals / output); far above any real message.
MAX_LOCALS_BYTES = 1_000_000
MAX_OUTPUT_BYTES = 1_000_000


class TemplateError(Exception):
    """A template failed to parse or render; carries Studio's code 81018."""

    code = LIQUID_ERROR_CODE


def _default_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_CLOCK: ContextVar[Callable[[], dt.datetime]] = ContextVar("flowyard_liquid_clock")


@contextmanager
def clock(now: Callable[[], dt.datetime]) -> Iterator[None]:
    """Make ``"now"`` in the ``date`` filter read ``now`` while rendering in this block."""
    token = _CLOCK.set(now)
    try:
        yield
    finally:
        _CLOCK.reset(token)


def to_json(value: Any) -> str:
    """Compact JSON, as Studio embeds objects (``{{x | to_json}}``)."""
    if is_undefined(value):
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def stringify(value: Any) -> str:
    """How a value prints in output: strings as-is, objects and arrays as JSON."""
    if isinstance(value, str):
        return value
    if value is None or is_undefined(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return to_json(value)
    if isinstance(value, range):
        return f"{value.start}..{value.stop - 1}"
    return str(value)


class _JsonOutputNode(OutputNode):
    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        return buffer.write(stringify(self.expression.evaluate(context)))

    async def render_to_output_async(self, context: Any, buffer: TextIO) -> int:
        return buffer.write(stringify(await self.expression.evaluate_async(context)))


class _JsonEchoNode(EchoNode, _JsonOutputNode):
    pass


class _JsonOutput(Output):
    node_class = _JsonOutputNode


class _JsonEcho(EchoTag):
    node_class = _JsonEchoNode


@with_environment
def _date(value: Any, fmt: Any = None, *, environment: _StudioLiquid) -> str:
    """``date`` with the injected clock and Studio's time zone."""
    if is_undefined(value) or value is None or value == "":
        return ""
    zone = environment.zone
    moment: dt.datetime | None
    if value in ("now", "today"):
        moment = _CLOCK.get(_default_clock)().astimezone(zone)
    elif isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.min)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = dt.datetime.fromtimestamp(value, zone)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        moment = dt.datetime.fromtimestamp(int(value.strip()), zone)
    elif isinstance(value, str):
        try:
            moment = date_parser.parse(value)
        except (ValueError, OverflowError):
            moment = None
    else:
        moment = None
    if moment is None:
        return stringify(value)  # Liquid returns unparseable input unchanged
    if is_undefined(fmt) or fmt is None or fmt == "":
        return stringify(value)
    try:
        return moment.strftime(str(fmt))
    except ValueError as exc:
        raise TemplateError(f"date: {exc}") from exc


class _StudioContext(liquid.RenderContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget_of(self.parent_context)

    def filter(self, name: str, token: Any) -> Callable[..., object]:
        # Every filter call goes through the render's budget (sizes in and out, work spent).
        return partial(self.budget.call, name, super().filter(name, token))

    def raise_for_loop_limit(self, length: int = 1) -> None:
        # Studio caps each loop at 15 iterations ("per loop", FAQ), not their product:
        # nested loops are bounded by the render's work budget instead.
        limit = self.env.loop_iteration_limit
        if limit and length > limit:
            raise LoopIterationLimitError(
                f"loop iteration limit reached: {length} iterations, {limit} allowed", token=None
            )
        self.budget.loop(length)

    def get_item(self, obj: Any, key: Any) -> Any:
        # Set Variables stores strings, so ``list[flow.variables.i]`` gets "1": index with it.
        if isinstance(key, str) and isinstance(obj, list) and key.lstrip("-").isdigit():
            key = int(key)
        return super().get_item(obj, key)


install_comparisons()


class _StudioTemplate(liquid.BoundTemplate):
    context_class = _StudioContext


class _StudioLiquid(liquid.Environment):
    """python-liquid configured like Studio; one instance per (loop limit, time zone)."""

    template_class = _StudioTemplate
    local_namespace_limit = MAX_LOCALS_BYTES
    output_stream_limit = MAX_OUTPUT_BYTES

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        super().__init__(strict_filters=False)
        # Template caches shared by every Renderer on this configuration.
        self.simple_cache: dict[str, Any] = {}
        self.parsed_cache: dict[str, Any] = {}

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        self.add_tag(_JsonOutput)
        self.add_tag(_JsonEcho)
        self.add_filter("to_json", to_json)
        self.add_filter("date", _date)
        self.add_filter("round", round_half_up)


@lru_cache(maxsize=16)
def _environment(loop_limit: int, zone: str) -> _StudioLiquid:
    # python-liquid reads the loop limit from the class, so each limit gets its own subclass.
    cls = type(f"StudioLiquid{loop_limit}", (_StudioLiquid,), {"loop_iteration_limit": loop_limit})
    return cls(zone)


# A template that is only text and plain ``{{ a.b-c.d }}`` outputs.
_SIMPLE_OUTPUT = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}\}")
_MAX_CACHE = 8192
# Literals that look like paths: ``{{ true }}`` is not a variable named "true".
_LITERALS = frozenset(("true", "false", "nil", "null", "empty", "blank"))


def _compile_simple(source: str) -> tuple[Any, ...] | None:
    parts: list[Any] = []
    position = 0
    for match in _SIMPLE_OUTPUT.finditer(source):
        text = source[position : match.start()]
        if "{{" in text or "{%" in text:
            return None
        if text:
            parts.append(text)
        path = tuple(match.group(1).split("."))
        if path[0] in _LITERALS:
            return None
        parts.append(path)
        position = match.end()
    tail = source[position:]
    if "{{" in tail or "{%" in tail:
        return None
    if tail:
        parts.append(tail)
    return tuple(parts)


_MISSING = object()
# Properties Liquid computes on strings, arrays and objects rather than looking up.
_SPECIAL = frozenset(("size", "first", "last"))


def _render_simple(parts: tuple[Any, ...], data: Mapping[str, Any]) -> str | Any:
    """Render path-only templates; returns ``_MISSING`` when Liquid proper must decide."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value: Any = data
        for key in part:
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif key in _SPECIAL:
                return _MISSING
            else:
                value = None  # undefined renders empty, whatever follows
                break
        out.append(stringify(value))
    return "".join(out)


class Renderer:
    """Renders Studio templates against a context; create once per limit set and reuse."""

    def __init__(self, *, loop_limit: int = 15, timezone: str = "America/Los_Angeles") -> None:
        self._env = _environment(loop_limit, timezone)
        self._simple = self._env.simple_cache
        self._parsed = self._env.parsed_cache

    def _parse(self, source: str) -> Any:
        template = self._parsed.get(source)
        if template is None:
            if len(source) > MAX_TEMPLATE_CHARS:
                raise TemplateError(
                    f"Liquid template error: template of {len(source)} characters is over the "
                    f"{MAX_TEMPLATE_CHARS}-character budget"
                )
            try:
                template = self._env.from_string(keyword_paths(source))
            except Exception as exc:  # any parser failure is the template's fault
                raise TemplateError(_describe(exc)) from exc
            if len(self._parsed) >= _MAX_CACHE:
                self._parsed.clear()  # cheap bound; hot templates come straight back
            self._parsed[source] = template
        return template

    def render(self, source: Any, data: Mapping[str, Any]) -> str:
        """Render ``source`` (non-strings are stringified unchanged) against ``data``."""
        if not isinstance(source, str):
            return stringify(source)
        if "{" not in source:
            return source
        simple = self._simple.get(source, _MISSING)
        if simple is _MISSING:
            simple = _compile_simple(source)
            if len(self._simple) >= _MAX_CACHE:
                self._simple.clear()
            self._simple[source] = simple
        if simple is not None:
            result = _render_simple(simple, data)
            if result is not _MISSING:
                return result
        template = self._parse(source)
        try:
            return template.render(**data)
        except Exception as exc:  # loop caps, bad filter arguments, recursion...
            raise TemplateError(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"Liquid template error: {message}"


_DEFAULT = Renderer()


def render(source: Any, data: Mapping[str, Any]) -> str:
    """Render with Studio's default limits (a convenience for callers outside a run)."""
    return _DEFAULT.render(source, data)
