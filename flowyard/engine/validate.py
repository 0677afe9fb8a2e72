"""Flow-definition validator: Studio's FlowValidate rules, reported as Studio reports them.

Errors are what Studio would refuse to save; warnings are legal but suspicious (a ``next`` that
names no state, states nothing leads to). Messages follow the families of Studio's JSON-Schema
validator ("integer found, string expected", "... is missing but it is required", ...) and each
item carries a 0-based JSON-pointer-like ``property_path`` such as ``#/states/3/properties/url``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from .specs import (
    CONDITION,
    MAX_STATES,
    SCHEMA_URL,
    WIDGET_SPECS,
    WIDGET_TYPES,
    PropertySpec,
    WidgetSpec,
)

# Trigger events that start an execution through the REST API (directly or via a parent flow).
_REST_EVENTS = frozenset({"incomingRequest", "incomingParent"})


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of :func:`validate_definition`; items are ``{"message", "property_path"}``."""

    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when there is no error (warnings do not make a flow invalid)."""
        return not self.errors


def validate_definition(definition: object) -> ValidationReport:
    """Check a parsed flow definition (the JSON ``Definition`` object) against Studio's rules."""
    checker = _Checker()
    checker.check(definition)
    return ValidationReport(errors=checker.errors, warnings=checker.warnings)


def is_liquid(value: str) -> bool:
    """True when ``value`` holds a Liquid output or tag: its content is known only at run time."""
    return "{{" in value or "{%" in value


def json_type(value: object) -> str:
    """The JSON type name of a parsed value, as Studio's messages spell it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        # JSON Schema counts 3.0 as an integer.
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _kind_ok(found: str, kinds: tuple[str, ...]) -> bool:
    return found in kinds or (found == "integer" and "number" in kinds)


def _type_message(name: str, found: str, kinds: tuple[str, ...]) -> str:
    return f"{name}: {found} found, {' or '.join(kinds)} expected"


def _alternatives(values: tuple[str, ...]) -> str:
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " or " + values[-1]


# Speed: a definition holds hundreds of values, nearly all well formed. The checks below first
# ask whether a value is plainly fine (by exact type, a dict lookup) and build its error path
# and message only when it may not be; what they report is unchanged.
_STRING = ("string",)
_OBJECT = ("object",)
_ARRAY = ("array",)
_EXACT_KINDS: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    list: "array",
    dict: "object",
}


def _whole_number_text(prop: PropertySpec) -> bool:
    """Whether a literal string value of ``prop`` must spell a whole number."""
    kinds = prop.kinds
    return (
        prop.numeric
        or prop.minimum is not None
        or prop.maximum is not None
        or ("string" in kinds and ("integer" in kinds or "number" in kinds))
    )


def _settled_types(prop: PropertySpec) -> frozenset[type]:
    """Exact types whose values ``check_value`` accepts for ``prop`` without any report."""
    kinds = prop.kinds
    unbounded = prop.minimum is None and prop.maximum is None
    types: set[type] = set()
    strict_enum = bool(prop.enum) and prop.enum_strict
    plain_text = not _whole_number_text(prop) and prop.pattern is None and not strict_enum
    if "string" in kinds and plain_text:
        types.add(str)
    if "boolean" in kinds:
        types.add(bool)
    if unbounded and ("integer" in kinds or "number" in kinds):
        types.add(int)
    if unbounded and "number" in kinds:
        types.add(float)  # whole or not, a float is a number
    if "array" in kinds and prop.items is None:
        types.add(list)
    if "object" in kinds and not prop.fields:
        types.add(dict)
    return frozenset(types)


def _all_properties() -> Iterator[PropertySpec]:
    pending = [CONDITION, *(p for spec in WIDGET_SPECS.values() for p in spec.properties)]
    while pending:
        prop = pending.pop()
        yield prop
        pending.extend(prop.fields)
        if prop.items is not None:
            pending.append(prop.items)


# (name, required, settled types, spec) of each field: what check_fields asks of every field.
_Plan = tuple[tuple[str, bool, frozenset[type], PropertySpec], ...]


def _make_plan(fields: tuple[PropertySpec, ...]) -> _Plan:
    return tuple((p.name, p.required, _settled_types(p), p) for p in fields)


# Keyed by identity, the specs being module constants (some hold unhashable defaults); the
# entry keeps its key alive, so the identity cannot be reused for another object.
_SETTLED: dict[int, tuple[PropertySpec, frozenset[type]]] = {}
_PLANS: dict[int, tuple[tuple[PropertySpec, ...], _Plan]] = {}
for _prop in _all_properties():
    _SETTLED[id(_prop)] = (_prop, _settled_types(_prop))
    _PLANS[id(_prop.fields)] = (_prop.fields, _make_plan(_prop.fields))
for _spec in WIDGET_SPECS.values():
    _PLANS[id(_spec.properties)] = (_spec.properties, _make_plan(_spec.properties))


def _settled(prop: PropertySpec) -> frozenset[type]:
    entry = _SETTLED.get(id(prop))
    return entry[1] if entry is not None and entry[0] is prop else _settled_types(prop)


def _plan(fields: tuple[PropertySpec, ...]) -> _Plan:
    entry = _PLANS.get(id(fields))
    return entry[1] if entry is not None and entry[0] is fields else _make_plan(fields)


class _Checker:
    """Collects errors and warnings while walking one definition."""

    def __init__(self) -> None:
        self.errors: list[dict] = []
        self.warnings: list[dict] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append({"message": message, "property_path": path})

    def warn(self, path: str, message: str) -> None:
        self.warnings.append({"message": message, "property_path": path})

    # --- top level -----------------------------------------------------------------------

    def check(self, definition: object) -> None:
        if not isinstance(definition, dict):
            found = json_type(definition)
            self.error(
                "#", f"the flow definition must be a JSON object: {found} found, object expected"
            )
            return

        if "description" in definition:
            self.check_type(definition["description"], "description", "#/description", ("string",))
        if "$schema" in definition and definition["$schema"] != SCHEMA_URL:
            self.error("#/$schema", f"$schema: must be a constant value {SCHEMA_URL}")
        if "flags" in definition:
            self.check_flags(definition["flags"])

        initial = definition.get("initial_state")
        initial_ok = False
        if "initial_state" not in definition:
            self.error("#/initial_state", "initial_state is missing but it is required")
        elif self.check_type(initial, "initial_state", "#/initial_state", ("string",)):
            if initial == "":
                self.error("#/initial_state", "initial_state: must not be empty")
            else:
                initial_ok = True

        if "states" not in definition:
            self.error("#/states", "states is missing but it is required")
            return
        states = definition["states"]
        if not self.check_type(states, "states", "#/states", ("array",)):
            return
        if not states:
            self.error("#/states", "states: must contain at least 1 state")
            return
        if len(states) > MAX_STATES:
            self.error(
                "#/states", f"states: must contain at most {MAX_STATES} states, found {len(states)}"
            )

        names: dict[str, int] = {}
        for index, state in enumerate(states):
            self.check_state(state, index, names)

        self.check_triggers(states)
        if initial_ok and initial not in names:
            self.error(
                "#/initial_state", f"initial_state: '{initial}' does not name a state in states"
            )
        self.check_graph(states, names, initial if initial_ok else None)

    def check_flags(self, flags: object) -> None:
        if not self.check_type(flags, "flags", "#/flags", ("object",)):
            return
        assert isinstance(flags, dict)
        path = "#/flags/allow_concurrent_calls"
        if "allow_concurrent_calls" not in flags:
            self.error(path, "allow_concurrent_calls is missing but it is required")
        else:
            self.check_type(
                flags["allow_concurrent_calls"], "allow_concurrent_calls", path, ("boolean",)
            )

    def check_type(self, value: object, name: str, path: str, kinds: tuple[str, ...]) -> bool:
        """Report a null or wrongly typed value; True when the value has an accepted type."""
        if _EXACT_KINDS.get(type(value)) in kinds:
            return True
        if value is None:
            self.error(path, f"{name}: must not be null")
            return False
        found = json_type(value)
        if not _kind_ok(found, kinds):
            self.error(path, _type_message(name, found, kinds))
            return False
        return True

    # --- states --------------------------------------------------------------------------

    def check_state(self, state: object, index: int, names: dict[str, int]) -> None:
        base = f"#/states/{index}"
        if type(state) is not dict and not self.check_type(state, "state", base, _OBJECT):
            return
        assert isinstance(state, dict)

        name = state.get("name")
        if "name" not in state:
            self.error(f"{base}/name", "name is missing but it is required")
        elif type(name) is str or self.check_type(name, "name", f"{base}/name", _STRING):
            assert isinstance(name, str)
            if not name:
                self.error(f"{base}/name", "name: must not be empty")
            elif name in names:
                self.error(
                    f"{base}/name",
                    f"name: '{name}' is already used by "
                    f"#/states/{names[name]}; state names must be unique",
                )
            else:
                names[name] = index

        spec: WidgetSpec | None = None
        widget_type = state.get("type")
        if "type" not in state:
            self.error(f"{base}/type", "type is missing but it is required")
        elif type(widget_type) is str or self.check_type(
            widget_type, "type", f"{base}/type", _STRING
        ):
            assert isinstance(widget_type, str)
            spec = WIDGET_SPECS.get(widget_type)
            if spec is None:
                self.error(
                    f"{base}/type",
                    f"type: '{widget_type}' does not have a value in the "
                    f"enumeration [{', '.join(WIDGET_TYPES)}]",
                )

        if "properties" not in state:
            self.error(f"{base}/properties", "properties is missing but it is required")
        else:
            props = state["properties"]
            path = f"{base}/properties"
            if (type(props) is dict or self.check_type(props, "properties", path, _OBJECT)) and (
                spec is not None
            ):
                self.check_properties(props, spec, path)

        if "transitions" not in state:
            self.error(f"{base}/transitions", "transitions is missing but it is required")
        else:
            transitions = state["transitions"]
            path = f"{base}/transitions"
            if type(transitions) is list or self.check_type(
                transitions, "transitions", path, _ARRAY
            ):
                self.check_transitions(transitions, spec, path)

    def check_triggers(self, states: list) -> None:
        triggers = [
            i for i, s in enumerate(states) if isinstance(s, dict) and s.get("type") == "trigger"
        ]
        if not triggers:
            self.error("#/states", "states: a flow must have exactly one trigger state, found none")
        for index in triggers[1:]:
            self.error(
                f"#/states/{index}/type",
                "type: a flow must have exactly one trigger "
                f"state; #/states/{triggers[0]} is already the trigger",
            )

    # --- properties ----------------------------------------------------------------------

    def check_properties(self, props: dict, spec: WidgetSpec, path: str) -> None:
        self.check_fields(props, spec.properties, path)
        for group in spec.require_one_of:
            # Presence is enough: Studio reports blank prompts and bodies only at run time.
            if not any(props.get(name) is not None for name in group):
                self.error(
                    path, f"properties: one of {_alternatives(group)} is required for {spec.type}"
                )

    def check_fields(self, obj: dict, fields: tuple[PropertySpec, ...], path: str) -> None:
        for name, required, settled, prop in _plan(fields):
            if name in obj:
                value = obj[name]
                if type(value) not in settled:
                    self.check_value(value, prop, f"{path}/{name}")
            elif required:
                self.error(f"{path}/{name}", f"{name} is missing but it is required")

    def check_value(self, value: object, prop: PropertySpec, path: str) -> None:
        if not self.check_type(value, prop.name, path, prop.kinds):
            return
        if isinstance(value, str):
            self.check_string(value, prop, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.check_range(value, prop, path)
        elif isinstance(value, list) and prop.items is not None:
            items = prop.items
            settled = _settled(items)
            for i, item in enumerate(value):
                if type(item) not in settled:
                    self.check_value(item, items, f"{path}/{i}")
        elif isinstance(value, dict) and prop.fields:
            self.check_fields(value, prop.fields, path)

    def check_string(self, value: str, prop: PropertySpec, path: str) -> None:
        if prop.liquid and is_liquid(value):
            return  # only known at run time
        if value == "" and not prop.required:
            return  # the Console writes "" for optional fields left blank
        if prop.enum and prop.enum_strict:
            candidate = value.split(";", 1)[0].strip().lower() if prop.media_type else value
            allowed = [v.lower() for v in prop.enum] if prop.media_type else prop.enum
            if candidate not in allowed:
                self.error(
                    path,
                    f"{prop.name}: '{value}' does not have a value in the "
                    f"enumeration [{', '.join(prop.enum)}]",
                )
                return
        if prop.pattern is not None and not re.fullmatch(prop.pattern, value):
            message = prop.pattern_message or f"does not match the pattern {prop.pattern}"
            self.error(path, f"{prop.name}: {message}")
            return
        if _whole_number_text(prop):
            try:
                number = int(value.strip())
            except ValueError:
                self.error(path, f"{prop.name}: '{value}' is not a whole number")
                return
            self.check_range(number, prop, path)

    def check_range(self, value: float, prop: PropertySpec, path: str) -> None:
        if prop.minimum is not None and value < prop.minimum:
            self.error(path, f"{prop.name}: must have a minimum value of {prop.minimum}")
        elif prop.maximum is not None and value > prop.maximum:
            self.error(path, f"{prop.name}: must have a maximum value of {prop.maximum}")

    # --- transitions ---------------------------------------------------------------------

    def check_transitions(self, transitions: list, spec: WidgetSpec | None, path: str) -> None:
        seen: dict[str, int] = {}
        for j, transition in enumerate(transitions):
            if type(transition) is not dict and not self.check_type(
                transition, "transition", f"{path}/{j}", _OBJECT
            ):
                continue
            assert isinstance(transition, dict)
            event = transition.get("event")
            event_ok = False
            if "event" not in transition:
                self.error(f"{path}/{j}/event", "event is missing but it is required")
            elif type(event) is str or self.check_type(
                event, "event", f"{path}/{j}/event", _STRING
            ):
                assert isinstance(event, str)
                if spec is not None and event not in spec.events:
                    self.error(
                        f"{path}/{j}/event",
                        f"event: '{event}' is not an event of "
                        f"{spec.type}: must be a constant value "
                        f"{_alternatives(spec.events)}",
                    )
                else:
                    event_ok = True

            if "next" in transition:
                target = transition["next"]
                if type(target) is not str:
                    self.check_type(target, "next", f"{path}/{j}/next", _STRING)

            is_match = spec is not None and spec.type == "split-based-on" and event == "match"
            if "conditions" in transition:
                if is_match:
                    self.check_conditions(transition["conditions"], f"{path}/{j}/conditions")
                elif spec is not None and event_ok:
                    self.error(
                        f"{path}/{j}/conditions",
                        "conditions: only allowed on match transitions of split-based-on",
                    )
            elif is_match:
                self.error(f"{path}/{j}/conditions", "conditions is missing but it is required")

            if event_ok and not is_match and isinstance(event, str):
                if event in seen:
                    self.warn(
                        f"{path}/{j}/event",
                        f"event: '{event}' already has a transition at "
                        f"{path}/{seen[event]}; only the first one is followed",
                    )
                else:
                    seen[event] = j

    def check_conditions(self, conditions: object, path: str) -> None:
        if not self.check_type(conditions, "conditions", path, ("array",)):
            return
        assert isinstance(conditions, list)
        if not conditions:
            self.error(path, "conditions: must contain at least 1 condition")
        for k, condition in enumerate(conditions):
            self.check_value(condition, CONDITION, f"{path}/{k}")

    # --- graph ---------------------------------------------------------------------------

    def check_graph(self, states: list, names: dict[str, int], initial: str | None) -> None:
        edges: dict[int, list[tuple[str, int]]] = {}
        for i, state in enumerate(states):
            if not isinstance(state, dict) or not isinstance(state.get("transitions"), list):
                continue
            for j, transition in enumerate(state["transitions"]):
                if not isinstance(transition, dict):
                    continue
                target = transition.get("next")
                if not isinstance(target, str) or target == "":
                    continue  # no next: this branch ends the execution
                if target not in names:
                    self.warn(
                        f"#/states/{i}/transitions/{j}/next",
                        f"next: '{target}' does not "
                        "name a state; the execution ends when this transition is taken",
                    )
                    continue
                event = transition.get("event")
                edges.setdefault(i, []).append(
                    (event if isinstance(event, str) else "", names[target])
                )

        if initial is None or initial not in names:
            return
        start = names[initial]
        reachable = _reachable([start], edges)
        # Duplicate-named states were already reported; only first holders of a name count.
        for i in sorted(set(names.values()) - reachable):
            self.warn(
                f"#/states/{i}",
                f"state '{states[i]['name']}' cannot be reached from the initial state '{initial}'",
            )
        if states[start].get("type") == "trigger":
            self.check_rest_only(states, edges, start)

    def check_rest_only(self, states: list, edges: dict, start: int) -> None:
        # Widgets that need a REST-started execution cannot hang off message/call events
        # (studio-runtime.md 1.4: Studio refuses to save such a flow).
        reported: set[int] = set()
        for event, target in edges.get(start, []):
            if event in _REST_EVENTS:
                continue
            for i in sorted(_reachable([target], edges) - reported):
                widget_type = states[i].get("type")
                spec = WIDGET_SPECS.get(widget_type) if isinstance(widget_type, str) else None
                if spec is not None and spec.rest_only:
                    reported.add(i)
                    self.error(
                        f"#/states/{i}/type",
                        f"type: {spec.type} can only be used in flows triggered by the REST API, "
                        f"but it can be reached from the trigger's {event} transition",
                    )


def _reachable(starts: list[int], edges: dict[int, list[tuple[str, int]]]) -> set[int]:
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for _event, target in edges.get(queue.popleft(), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
