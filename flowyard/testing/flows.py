"""Loading flow definitions for tests: ``load_flow(path)`` and the runs it starts."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flowyard.engine import Flow
from flowyard.engine.testing import VirtualClock

from .mocks import Answer, Mocks
from .run import CONTACT, CONVERSATION, FLOW_NUMBER, FlowRun

_CACHE: dict[tuple[Path, float], dict[str, Any]] = {}


def read_definition(path: str | Path) -> dict[str, Any]:
    """A flow definition from a JSON file: Studio's export, or an API resource holding one
    under ``definition``. Parsed files are cached by path and modification time."""
    path = Path(path).resolve()
    key = (path, path.stat().st_mtime)
    cached = _CACHE.get(key)
    if cached is None:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("definition"), dict):
            data = data["definition"]
        cached = _CACHE[key] = data
    return cached


def flow_sid_for(path: str | Path) -> str:
    """A stable SID for a flow file, so contexts and snapshots do not change between runs."""
    digest = hashlib.md5(str(Path(path).name).encode()).hexdigest()
    return "FW" + digest


def parse_flow(path: str | Path) -> Flow:
    return Flow.from_definition(read_definition(path), flow_sid=flow_sid_for(path), revision=1)


class UnknownWidget(ValueError):
    """Mocks keyed on a widget the flow does not have: a typo would silently mock nothing."""


class FlowFile:
    """A flow loaded for testing; each ``start``/``message``/``call`` is a fresh execution.

    ``mocks`` (widget name -> answers) apply to every run; ``subflows`` maps the flow SIDs
    that Run Subflow widgets name to their definition files.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
        subflows: Mapping[str, str | Path] | None = None,
        allow_network: bool = False,
        functions: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        # Run Function widgets given by SIDs: function_sid (or widget name) -> URL or mock.
        self.functions = dict(functions or {})
        self.flow = parse_flow(path)
        self.mocks = {k: list(v) for k, v in (mocks or {}).items()}
        self.subflows = {
            sid: Flow.from_definition(read_definition(p), flow_sid=sid, revision=1)
            for sid, p in (subflows or {}).items()
        }
        self.sources = {self.flow.flow_sid: self.path}
        self.sources.update((sid, Path(p)) for sid, p in (subflows or {}).items())
        self.allow_network = allow_network

    def mock(self, widget: str, *answers: Answer | dict[str, Any]) -> FlowFile:
        """Mock ``widget`` for every run started from now on."""
        self.mocks[widget] = list(answers)
        return self

    def new_run(
        self,
        mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
        *,
        allow_network: bool | None = None,
        clock: VirtualClock | None = None,
        functions: Mapping[str, Any] | None = None,
        placed_calls: list[str] | None = None,
    ) -> FlowRun:
        """A run not yet started; ``mocks`` (and ``functions``) add to the flow's own;
        ``placed_calls`` script how the calls the flow places end."""
        allowed = self.allow_network if allow_network is None else allow_network
        table = Mocks(allow_network=allowed, functions={**self.functions, **(functions or {})})
        chosen = {**self.mocks, **(mocks or {})}
        self.check_widgets(chosen)
        for widget, answers in chosen.items():
            table.add(widget, *answers)
        return FlowRun(
            self.flow,
            mocks=table,
            subflows=self.subflows,
            clock=clock,
            sources=self.sources,
            placed_calls=placed_calls,
        )

    def check_widgets(self, names: Iterable[str]) -> None:
        """Raise ``UnknownWidget`` for a name that is no widget of the flow or its subflows."""
        known = set(self.flow.states)
        for subflow in self.subflows.values():
            known.update(subflow.states)
        for name in names:
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            where = self.path.name
            raise UnknownWidget(f"mocks name {name!r}, which is no widget of {where}{hint}")

    def start(
        self,
        parameters: dict[str, Any] | None = None,
        *,
        to: str = CONTACT,
        from_: str = FLOW_NUMBER,
        mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
        allow_network: bool | None = None,
    ) -> FlowRun:
        """Start through the REST API trigger (``incomingRequest``) with ``parameters``."""
        run = self.new_run(mocks, allow_network=allow_network)
        return run.rest(parameters, to=to, from_=from_)

    def message(
        self,
        body: str,
        *,
        from_: str = CONTACT,
        to: str = FLOW_NUMBER,
        mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
        allow_network: bool | None = None,
    ) -> FlowRun:
        """Start with an inbound message from ``from_``."""
        run = self.new_run(mocks, allow_network=allow_network)
        return run.message(body, from_=from_, to=to)

    def conversation(
        self,
        body: str,
        *,
        author: str = CONTACT,
        conversation_sid: str = CONVERSATION,
        mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
        allow_network: bool | None = None,
    ) -> FlowRun:
        """Start with a message ``author`` added to a Conversation."""
        run = self.new_run(mocks, allow_network=allow_network)
        return run.conversation(body, author=author, conversation_sid=conversation_sid)

    def call(
        self,
        *,
        from_: str = CONTACT,
        to: str = FLOW_NUMBER,
        outcomes: dict[str, dict[str, str]] | None = None,
        mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
        allow_network: bool | None = None,
    ) -> FlowRun:
        """Start with an inbound call from ``from_`` (``outcomes``: see ``FlowRun.call``)."""
        run = self.new_run(mocks, allow_network=allow_network)
        return run.call(from_=from_, to=to, outcomes=outcomes)


def load_flow(
    path: str | Path,
    *,
    mocks: Mapping[str, list[Answer | dict[str, Any]]] | None = None,
    subflows: Mapping[str, str | Path] | None = None,
    allow_network: bool = False,
    functions: Mapping[str, Any] | None = None,
) -> FlowFile:
    """Load a flow definition file for testing (see ``FlowFile``); ``functions`` maps the
    ``function_sid`` (or widget name) of a Run Function given by SIDs to a URL or a mock."""
    return FlowFile(
        path, mocks=mocks, subflows=subflows, allow_network=allow_network, functions=functions
    )
