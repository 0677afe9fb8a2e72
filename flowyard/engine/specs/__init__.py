"""Declarative table of every Studio widget type: properties, events and rules.

The validator checks definitions against it and a console can build property forms from it.
"""

from __future__ import annotations

from .base import OFFSET, PropertySpec, WidgetSpec
from .logic import CONDITION, CONDITION_OPERATORS, LOGIC_WIDGETS
from .messaging import MESSAGING_WIDGETS
from .voice import VOICE_WIDGETS

# Value that ``$schema`` must have when a definition carries it.
SCHEMA_URL = "https://schemas.twilio.com/studio/draft/2019-09/flow-definition"
# ``states`` array bound from the flow-definition JSON Schema.
MAX_STATES = 1000

WIDGET_SPECS: dict[str, WidgetSpec] = {
    spec.type: spec for spec in (*LOGIC_WIDGETS, *MESSAGING_WIDGETS, *VOICE_WIDGETS)
}

# Order used when an unknown type is reported, as Studio lists the enumeration.
WIDGET_TYPES: tuple[str, ...] = tuple(WIDGET_SPECS)


def events_for(widget_type: str) -> tuple[str, ...]:
    """Transition events allowed for ``widget_type``; raises KeyError for an unknown type."""
    return WIDGET_SPECS[widget_type].events


__all__ = [
    "CONDITION",
    "CONDITION_OPERATORS",
    "MAX_STATES",
    "OFFSET",
    "SCHEMA_URL",
    "WIDGET_SPECS",
    "WIDGET_TYPES",
    "PropertySpec",
    "WidgetSpec",
    "events_for",
]
