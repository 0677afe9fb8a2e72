"""The flow-definition model the engine runs: states by name, their transitions, the flags.

Loading is lenient on purpose: Studio has accepted definitions with dangling ``next`` targets
and odd property types (studio-runtime.md 1.3, 1.4), and the validator is where strictness
lives. Here a bad reference simply ends the branch at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Transition:
    """One ``{event, next?, conditions?}`` entry; ``next`` is None when the branch ends."""

    event: str
    next: str | None = None
    conditions: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    """A widget in a definition: name, Studio ``type``, properties and transitions."""

    name: str
    type: str
    properties: Mapping[str, Any]
    transitions: tuple[Transition, ...]
    # First transition per event: Console exports list every event once, except ``match``.
    by_event: Mapping[str, Transition] = field(default_factory=dict)

    @property
    def matches(self) -> tuple[Transition, ...]:
        """The ``match`` transitions of a split, in definition order."""
        return tuple(t for t in self.transitions if t.event == "match")

    def transition(self, event: str) -> Transition | None:
        return self.by_event.get(event)


def _transition(raw: Any) -> Transition | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("event"), str):
        return None
    nxt = raw.get("next")
    conditions = raw.get("conditions") or ()
    return Transition(
        event=raw["event"],
        next=nxt if isinstance(nxt, str) and nxt else None,
        conditions=tuple(c for c in conditions if isinstance(c, Mapping)),
    )


def _state(raw: Mapping[str, Any]) -> State:
    transitions = tuple(
        t for t in (_transition(x) for x in raw.get("transitions") or ()) if t is not None
    )
    by_event: dict[str, Transition] = {}
    for t in transitions:
        by_event.setdefault(t.event, t)
    properties = raw.get("properties")
    return State(
        name=raw["name"],
        type=str(raw.get("type") or ""),
        properties=properties if isinstance(properties, Mapping) else {},
        transitions=transitions,
        by_event=by_event,
    )


_PLACING_CALLS = frozenset({"make-outgoing-call-v2", "make-outgoing-call-v1", "run-subflow"})


@dataclass(frozen=True, slots=True)
class Flow:
    """A parsed flow revision. Immutable, so a host may cache and share it between threads."""

    flow_sid: str
    revision: int
    initial_state: str
    states: Mapping[str, State]
    flags: Mapping[str, Any]
    description: str = ""
    definition: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_definition(cls, definition: dict, *, flow_sid: str, revision: int) -> Flow:
        """Parse a Studio definition; raises ValueError only when it is not a definition."""
        if not isinstance(definition, Mapping):
            raise ValueError("a flow definition must be a JSON object")
        raw_states = definition.get("states")
        if not isinstance(raw_states, list):
            raise ValueError("a flow definition needs a 'states' array")
        states: dict[str, State] = {}
        for raw in raw_states:
            # Duplicate names: the first one wins, as ``next`` lookups would find it first.
            if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
                states.setdefault(raw["name"], _state(raw))
        initial = definition.get("initial_state")
        if not isinstance(initial, str) or initial not in states:
            triggers = [s.name for s in states.values() if s.type == "trigger"]
            initial = triggers[0] if triggers else str(initial or "Trigger")
        flags = definition.get("flags")
        return cls(
            flow_sid=flow_sid,
            revision=revision,
            initial_state=initial,
            states=states,
            flags=flags if isinstance(flags, Mapping) else {},
            description=str(definition.get("description") or ""),
            definition=definition,
        )

    @property
    def allow_concurrent_calls(self) -> bool:
        # On by default for flows created after 1 Oct 2018 (studio-runtime.md 1.1).
        return bool(self.flags.get("allow_concurrent_calls", True))

    def may_place_calls(self) -> bool:
        """Whether a widget of this flow can place a call (or run a subflow that might)."""
        return any(state.type in _PLACING_CALLS for state in self.states.values())

    def state(self, name: str | None) -> State | None:
        return self.states.get(name) if name else None

    def trigger_events(self) -> dict[str, str | None]:
        """Trigger event -> first widget (None where the event is unwired)."""
        trigger = self.states.get(self.initial_state)
        if trigger is None:
            return {}
        return {t.event: t.next for t in trigger.transitions}
