"""Widget-level diff of two flow definitions, ignoring canvas offsets and key order.

Pure: takes two parsed definitions and returns a :class:`DefinitionDiff`. The console's
revision view and the ``flowyard diff`` command both render it; ``as_dict`` gives plain JSON.

Widgets are matched by name. A widget that disappears under one name and appears under
another with the same type, properties and transitions is reported once, as renamed.
Transitions are matched by event and, for events that may repeat (a split's ``match``), by
their position among transitions of that event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ChangeKind = Literal["added", "removed", "changed"]
WidgetStatus = Literal["added", "removed", "changed", "renamed"]

# Keys of a state that are compared field by field rather than as whole values.
_STRUCTURED_KEYS = frozenset({"name", "type", "properties", "transitions"})
_OFFSET = "offset"


@dataclass(frozen=True)
class ValueChange:
    """One value that differs; ``path`` is a JSON pointer relative to its owner."""

    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class TransitionChange:
    """A transition added, removed or changed (``next`` or conditions) on one widget."""

    event: str
    index: int  # position among this widget's transitions for the same event
    kind: ChangeKind
    old_next: str | None = None
    new_next: str | None = None
    changes: tuple[ValueChange, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "index": self.index,
            "kind": self.kind,
            "old_next": self.old_next,
            "new_next": self.new_next,
            "changes": [c.as_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class WidgetDiff:
    """What happened to one widget between the two definitions."""

    name: str
    status: WidgetStatus
    type: str | None
    old_name: str | None = None  # set when renamed
    old_type: str | None = None  # set when the type changed
    properties: tuple[ValueChange, ...] = ()
    transitions: tuple[TransitionChange, ...] = ()
    other: tuple[ValueChange, ...] = ()  # any other state keys that differ

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "type": self.type,
            "old_name": self.old_name,
            "old_type": self.old_type,
            "properties": [c.as_dict() for c in self.properties],
            "transitions": [t.as_dict() for t in self.transitions],
            "other": [c.as_dict() for c in self.other],
        }


@dataclass(frozen=True)
class DefinitionDiff:
    """Every widget that differs, in the new definition's order then removed ones."""

    widgets: tuple[WidgetDiff, ...] = ()
    top_level: tuple[ValueChange, ...] = field(default=())  # initial_state, flags, ...

    @property
    def is_empty(self) -> bool:
        """True when the definitions are the same apart from offsets and key order."""
        return not self.widgets and not self.top_level

    def by_status(self, status: WidgetStatus) -> list[WidgetDiff]:
        return [w for w in self.widgets if w.status == status]

    @property
    def added(self) -> list[WidgetDiff]:
        return self.by_status("added")

    @property
    def removed(self) -> list[WidgetDiff]:
        return self.by_status("removed")

    @property
    def changed(self) -> list[WidgetDiff]:
        return self.by_status("changed")

    @property
    def renamed(self) -> list[WidgetDiff]:
        return self.by_status("renamed")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON: ``{"widgets": [...], "top_level": [...], "summary": {...}}``."""
        return {
            "widgets": [w.as_dict() for w in self.widgets],
            "top_level": [c.as_dict() for c in self.top_level],
            "summary": {
                status: len(self.by_status(status))
                for status in ("added", "removed", "changed", "renamed")
            },
        }


def diff_definitions(old: Any, new: Any) -> DefinitionDiff:
    """Compare two parsed definitions widget by widget (offsets and key order ignored)."""
    old_states = _states_by_name(old)
    new_states = _states_by_name(new)
    removed = [n for n in old_states if n not in new_states]
    added = [n for n in new_states if n not in old_states]
    renames = _match_renames({n: old_states[n] for n in removed}, {n: new_states[n] for n in added})
    renamed_from = set(renames.values())

    widgets: list[WidgetDiff] = []
    for name, state in new_states.items():
        if name in renames:
            widgets.append(_renamed(renames[name], old_states[renames[name]], name, state))
        elif name not in old_states:
            widgets.append(_added_or_removed(name, state, "added"))
        else:
            changed = _changed(name, old_states[name], state)
            if changed is not None:
                widgets.append(changed)
    for name in removed:
        if name not in renamed_from:
            widgets.append(_added_or_removed(name, old_states[name], "removed"))
    return DefinitionDiff(tuple(widgets), tuple(_top_level(old, new)))


# --- states ------------------------------------------------------------------------------


def _states_by_name(definition: Any) -> dict[str, dict[str, Any]]:
    """States keyed by name; unnamed or duplicate ones get a positional key so none is lost."""
    states = definition.get("states") if isinstance(definition, Mapping) else None
    result: dict[str, dict[str, Any]] = {}
    if not isinstance(states, list):
        return result
    for index, state in enumerate(states):
        if not isinstance(state, Mapping):
            continue
        name = state.get("name")
        key = name if isinstance(name, str) and name else f"#{index}"
        if key in result:
            key = f"{key}#{index}"
        result[key] = dict(state)
    return result


def _properties(state: Mapping[str, Any]) -> dict[str, Any]:
    props = state.get("properties")
    if not isinstance(props, Mapping):
        return {}
    return {k: v for k, v in props.items() if k != _OFFSET}


def _transitions(state: Mapping[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """Transitions keyed by (event, occurrence of that event)."""
    result: dict[tuple[str, int], dict[str, Any]] = {}
    raw = state.get("transitions")
    if not isinstance(raw, list):
        return result
    seen: dict[str, int] = {}
    for transition in raw:
        if not isinstance(transition, Mapping):
            continue
        event = transition.get("event")
        event = event if isinstance(event, str) else ""
        index = seen.get(event, 0)
        seen[event] = index + 1
        result[(event, index)] = dict(transition)
    return result


def _signature(state: Mapping[str, Any]) -> Any:
    """What must match for a removed and an added widget to count as one renamed widget."""
    return _canonical(
        {
            "type": state.get("type"),
            "properties": _properties(state),
            "transitions": [_transitions(state)[k] for k in sorted(_transitions(state))],
        }
    )


def _match_renames(
    removed: dict[str, dict[str, Any]], added: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """``{new name: old name}`` for pairs whose content is identical and unambiguous."""
    by_signature: dict[Any, list[str]] = {}
    for name, state in removed.items():
        by_signature.setdefault(_signature(state), []).append(name)
    added_by_signature: dict[Any, list[str]] = {}
    for name, state in added.items():
        added_by_signature.setdefault(_signature(state), []).append(name)
    renames: dict[str, str] = {}
    for signature, new_names in added_by_signature.items():
        old_names = by_signature.get(signature, [])
        if len(new_names) == 1 and len(old_names) == 1:
            renames[new_names[0]] = old_names[0]
    return renames


def _type_of(state: Mapping[str, Any]) -> str | None:
    value = state.get("type")
    return value if isinstance(value, str) else None


def _added_or_removed(name: str, state: dict[str, Any], status: WidgetStatus) -> WidgetDiff:
    kind: ChangeKind = "added" if status == "added" else "removed"
    props = [
        ValueChange(f"/{_escape(k)}", kind, *_sides(kind, v))
        for k, v in sorted(_properties(state).items())
    ]
    transitions = [
        TransitionChange(event, index, kind, *_sides(kind, _next_of(t)))
        for (event, index), t in sorted(_transitions(state).items())
    ]
    return WidgetDiff(
        name, status, _type_of(state), properties=tuple(props), transitions=tuple(transitions)
    )


def _renamed(old_name: str, old: dict[str, Any], name: str, new: dict[str, Any]) -> WidgetDiff:
    # Content is identical by construction, apart from keys outside the signature.
    return WidgetDiff(
        name, "renamed", _type_of(new), old_name=old_name, other=tuple(_other_changes(old, new))
    )


def _changed(name: str, old: dict[str, Any], new: dict[str, Any]) -> WidgetDiff | None:
    old_type, new_type = _type_of(old), _type_of(new)
    props = _value_changes(_properties(old), _properties(new), "")
    transitions = _transition_changes(_transitions(old), _transitions(new))
    other = _other_changes(old, new)
    if old_type == new_type and not props and not transitions and not other:
        return None
    return WidgetDiff(
        name,
        "changed",
        new_type,
        old_type=old_type if old_type != new_type else None,
        properties=tuple(props),
        transitions=tuple(transitions),
        other=tuple(other),
    )


def _other_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ValueChange]:
    keys = (set(old) | set(new)) - _STRUCTURED_KEYS
    return _value_changes(
        {k: old[k] for k in keys if k in old}, {k: new[k] for k in keys if k in new}, ""
    )


def _next_of(transition: Mapping[str, Any]) -> str | None:
    value = transition.get("next")
    return value if isinstance(value, str) and value else None


def _transition_changes(
    old: dict[tuple[str, int], dict[str, Any]], new: dict[tuple[str, int], dict[str, Any]]
) -> list[TransitionChange]:
    changes: list[TransitionChange] = []
    for key in sorted(set(old) | set(new)):
        event, index = key
        if key not in old:
            changes.append(TransitionChange(event, index, "added", None, _next_of(new[key])))
        elif key not in new:
            changes.append(TransitionChange(event, index, "removed", _next_of(old[key]), None))
        else:
            before, after = old[key], new[key]
            extra = _value_changes(
                {k: v for k, v in before.items() if k not in ("event", "next")},
                {k: v for k, v in after.items() if k not in ("event", "next")},
                "",
            )
            if _next_of(before) != _next_of(after) or extra:
                changes.append(
                    TransitionChange(
                        event, index, "changed", _next_of(before), _next_of(after), tuple(extra)
                    )
                )
    return changes


# --- top level ---------------------------------------------------------------------------


def _top_level(old: Any, new: Any) -> list[ValueChange]:
    old_map = {k: v for k, v in old.items() if k != "states"} if isinstance(old, Mapping) else {}
    new_map = {k: v for k, v in new.items() if k != "states"} if isinstance(new, Mapping) else {}
    return _value_changes(old_map, new_map, "")


# --- values ------------------------------------------------------------------------------


def _sides(kind: ChangeKind, value: Any) -> tuple[Any, Any]:
    return (None, value) if kind == "added" else (value, None)


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _value_changes(old: Mapping[str, Any], new: Mapping[str, Any], base: str) -> list[ValueChange]:
    """Differences between two objects, descending into nested objects and equal-length lists."""
    changes: list[ValueChange] = []
    for key in sorted(set(old) | set(new), key=str):
        path = f"{base}/{_escape(key)}"
        if key not in old:
            changes.append(ValueChange(path, "added", None, new[key]))
        elif key not in new:
            changes.append(ValueChange(path, "removed", old[key], None))
        else:
            changes.extend(_compare(old[key], new[key], path))
    return changes


def _compare(old: Any, new: Any, path: str) -> list[ValueChange]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return _value_changes(old, new, path)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes: list[ValueChange] = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            changes.extend(_compare(a, b, f"{path}/{i}"))
        return changes
    if _canonical(old) == _canonical(new):
        return []
    return [ValueChange(path, "changed", old, new)]


def _canonical(value: Any) -> Any:
    """A hashable form in which JSON-equal values are equal and 1 != true != "1"."""
    if isinstance(value, Mapping):
        return ("o", tuple(sorted((str(k), _canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("a", tuple(_canonical(v) for v in value))
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", float(value))
    if value is None:
        return ("z",)
    return ("s", str(value))
