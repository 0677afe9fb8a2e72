"""What a widget is to the runner: a handler per Studio ``type`` returning outcomes.

A widget never performs I/O and never changes the context itself. It is entered
(``enter``), may ask for a service call (``Call``) and get its result (``on_result``), may
park (``Park``) until a resume arrives (``on_resume``), and finishes with ``Next`` (an event
and its outputs). ``Fail`` or a ``TemplateError`` fails the widget: it takes its
``failure_event`` when it has one, else the execution ends with the error recorded.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..io import CallResult, DeliveryFailure, EngineError, Reply, Timeout
from ..model import Flow, State, Transition

if TYPE_CHECKING:
    from ..environment import Environment
    from ..liquid import Renderer

# The context is stored as JSON, whose encoder (orjson) stops at 254 levels; the context
# itself adds a few, and no real payload comes near this.
MAX_JSON_DEPTH = 64

# -- outcomes ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Next:
    """Finish with ``event``; ``outputs`` become ``widgets.<name>`` (``{}`` when None)."""

    event: str
    outputs: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None
    error: EngineError | None = None
    # Merged into ``flow.channel`` (a conversation the widget attached the execution to).
    channel: dict[str, Any] | None = None
    # A split names the exact ``match`` transition that won.
    transition: Transition | None = None


@dataclass(slots=True)
class Call:
    """Stop the sprint until the host answers this service call."""

    kind: str
    request: dict[str, Any]


@dataclass(slots=True)
class Park:
    """Wait for a resume; ``seconds`` until a ``Timeout`` (None: only the lifetime expiry).

    ``live`` replaces ``widgets.<name>`` while waiting, so the context shows what was sent.
    """

    kind: str
    seconds: float | None
    live: dict[str, Any] | None = None


@dataclass(slots=True)
class Fail:
    """The widget cannot run (bad properties, retired product...)."""

    error: EngineError


@dataclass(slots=True)
class EnterSubflow:
    """Run ``flow``'s ``incomingParent`` branch inside this execution."""

    flow: Flow
    parameters: dict[str, Any]


@dataclass(slots=True)
class End:
    """End the execution where it stands, with no step out of the widget (``ENDED``, as
    when ended through the API): a TwiML Redirect with ``timeout: 0`` hands over for good."""


Outcome = Next | Call | Park | Fail | EnterSubflow | End
Signal = Reply | Timeout | DeliveryFailure

# -- what a widget sees -----------------------------------------------------------------------


class WidgetRun:
    """One widget's view of the run: its state, the context, rendering and the clock."""

    __slots__ = ("context", "env", "in_subflow", "name", "renderer", "state")

    def __init__(
        self,
        state: State,
        context: dict[str, Any],
        env: Environment,
        renderer: Renderer,
        *,
        in_subflow: bool,
    ) -> None:
        self.state = state
        self.name = state.name
        self.context = context
        self.env = env
        self.renderer = renderer
        self.in_subflow = in_subflow

    @property
    def props(self) -> Mapping[str, Any]:
        return self.state.properties

    def render(self, template: Any) -> str:
        """Render a template against the current context (raises ``TemplateError``)."""
        return self.renderer.render(template, self.context)

    def prop(self, key: str, default: str = "") -> str:
        """A rendered property; ``default`` (itself rendered) when absent or null."""
        value = self.props.get(key)
        return self.render(default if value is None else value)

    @property
    def entry(self) -> dict[str, Any]:
        """This widget's current ``widgets.<name>`` entry (what ``Park.live`` left)."""
        return dict((self.context.get("widgets") or {}).get(self.name) or {})

    def number(self, key: str) -> int | None:
        """An integer property; a string is a template (``"{{flow.data.t}}"``) rendered first.
        None when absent or not an integer."""
        value = self.props.get(key)
        if isinstance(value, str):
            value = self.render(value)
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            return None

    def error(self, kind: str, message: str, code: int | None = None) -> EngineError:
        return EngineError(kind=kind, message=message, code=code, widget=self.name)


def load_json(text: str) -> Any:
    """``json.loads`` that raises ``ValueError`` for a document nested over
    ``MAX_JSON_DEPTH`` levels too (a value from a flow or a server, put in the context)."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deep") from exc
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested over {MAX_JSON_DEPTH} levels")
            stack.extend((child, depth + 1) for child in children)
    return value


def key_values(run: WidgetRun, items: Any) -> dict[str, Any]:
    """Render a ``[{key, value}]`` list; values marked as JSON are parsed.

    The "Parse as JSON" option is spelled ``parse_as_json: true`` or ``type: "json"`` (both
    are seen; studio-runtime.md 1.3). A value that does not parse stays a string.
    """
    result: dict[str, Any] = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping) or item.get("key") in (None, ""):
            continue
        raw = item.get("value")
        value: Any = run.render("" if raw is None else raw) if isinstance(raw, str) else raw
        as_json = item.get("parse_as_json") is True or str(item.get("type", "")).lower() == "json"
        if as_json and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = load_json(value)
        result[str(item["key"])] = value
    return result


def seconds(value: Any, default: int) -> int:
    """A timeout written as a string or an int ("3600", 3600); ``default`` when unusable."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= 0 else default


# -- the widget base and registry ---------------------------------------------------------------


class Widget:
    """Base class: subclasses set ``type`` and implement ``enter`` (and the hooks they need)."""

    type: ClassVar[str] = ""
    failure_event: ClassVar[str | None] = None

    def enter(self, run: WidgetRun) -> Outcome:
        raise NotImplementedError

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        return Fail(run.error("unexpected_result", f"{self.type} made no service call"))

    def on_resume(self, run: WidgetRun, signal: Signal) -> Outcome | None:
        """Handle a resume while parked; None when this signal means nothing here."""
        return None

    def on_subflow_end(
        self, run: WidgetRun, outputs: dict[str, Any] | None, error: EngineError | None
    ) -> Outcome:
        return Fail(run.error("unexpected_subflow", f"{self.type} ran no subflow"))


WIDGETS: dict[str, Widget] = {}


def register(cls: type[Widget]) -> type[Widget]:
    """Class decorator: make ``cls`` the handler of its Studio ``type``."""
    if not cls.type:
        raise ValueError(f"{cls.__name__} has no Studio type")
    WIDGETS[cls.type] = cls()
    return cls
