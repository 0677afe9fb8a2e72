"""Building blocks of the widget table: property and widget descriptions plus shared fields.

Sources for every rule are in ``shared/reference/studio-runtime.md`` sections 1 and 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# JSON type names as Studio's validator prints them ("integer found, string expected").
STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
ARRAY = "array"
OBJECT = "object"


@dataclass(frozen=True)
class PropertySpec:
    """One widget property (or one field of a nested object) as a console form would show it."""

    name: str
    label: str
    description: str = ""
    kinds: tuple[str, ...] = (STRING,)
    required: bool = False
    # Allowed literal values; Liquid values skip the check when ``liquid`` is true.
    enum: tuple[str, ...] = ()
    # False for suggestion lists where Studio is known to accept newer values.
    enum_strict: bool = True
    # Compare only the media type before ";" (Console writes "application/json;charset=utf-8").
    media_type: bool = False
    liquid: bool = True
    pattern: str | None = None
    pattern_message: str = ""
    # Numeric range; applied to integers and to literal numeric strings.
    minimum: int | None = None
    maximum: int | None = None
    # A whole number written as a string ("3600"): any other literal text is refused, as
    # Studio refuses it; Liquid passes. Implied by a range, or by kinds of string and integer.
    numeric: bool = False
    default: object = None
    # Spec of each element when ``kinds`` includes "array".
    items: PropertySpec | None = None
    # Fields of the object when ``kinds`` includes "object".
    fields: tuple[PropertySpec, ...] = ()


@dataclass(frozen=True)
class WidgetSpec:
    """A Studio widget ``type``: its properties, its transition events and cross-field rules."""

    type: str
    label: str
    category: str
    description: str
    events: tuple[str, ...]
    properties: tuple[PropertySpec, ...] = ()
    # Each group needs at least one of its properties present (e.g. Say/Play needs a prompt).
    require_one_of: tuple[tuple[str, ...], ...] = ()
    # Studio refuses these widgets outside REST-triggered executions.
    rest_only: bool = False
    by_name: dict[str, PropertySpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {p.name: p for p in self.properties})


# --- shared property shapes ---------------------------------------------------------------

OFFSET = PropertySpec(
    "offset",
    "Canvas position",
    "Where the widget sits on the Studio canvas; no runtime meaning.",
    kinds=(OBJECT,),
    fields=(
        PropertySpec("x", "X", kinds=(NUMBER,)),
        PropertySpec("y", "Y", kinds=(NUMBER,)),
    ),
)

_KEY = PropertySpec("key", "Key", "Name of the parameter.", required=True)
_VALUE = PropertySpec("value", "Value", "Liquid template rendered at run time.", required=True)
# Optional typing of set-variables / subflow items (ZING models ``type``, AI-SKILL a JSON flag);
# the JSON spelling is unconfirmed, so both are accepted.
_ITEM_TYPE = PropertySpec("type", "Value type", "How the rendered value is stored.")
_PARSE_AS_JSON = PropertySpec(
    "parse_as_json",
    "Parse as JSON object",
    "Store the rendered value as parsed JSON.",
    kinds=(BOOLEAN,),
)


def key_values(
    name: str, label: str, description: str, *, typed: bool = False, required: bool = False
) -> PropertySpec:
    """An array of ``{key, value}`` objects (parameters, variables, memory, stream params)."""
    extra = (_ITEM_TYPE, _PARSE_AS_JSON) if typed else ()
    item = PropertySpec("item", "Entry", kinds=(OBJECT,), fields=(_KEY, _VALUE, *extra))
    return PropertySpec(name, label, description, kinds=(ARRAY,), required=required, items=item)


def text(name: str, label: str, description: str = "", **kw: Any) -> PropertySpec:
    """A string property where Liquid is allowed (the common case)."""
    return PropertySpec(name, label, description, **kw)


def integer(name: str, label: str, description: str = "", **kw: Any) -> PropertySpec:
    """A property Studio stores as a real JSON integer."""
    return PropertySpec(name, label, description, kinds=(INTEGER,), **kw)


def boolean(name: str, label: str, description: str = "", **kw: Any) -> PropertySpec:
    """A property Studio stores as a real JSON boolean."""
    return PropertySpec(name, label, description, kinds=(BOOLEAN,), **kw)


def choice(
    name: str, label: str, values: tuple[str, ...], description: str = "", **kw: Any
) -> PropertySpec:
    """A string property limited to ``values`` (Liquid still allowed unless ``liquid=False``)."""
    return PropertySpec(name, label, description, enum=values, **kw)


TRUE_FALSE = ("true", "false")
GET_POST = ("GET", "POST")
TRIM = ("trim-silence", "do-not-trim")
RECORDING_CHANNELS = ("mono", "dual")
