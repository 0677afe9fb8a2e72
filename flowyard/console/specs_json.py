"""The widget table as JSON for the browser: the palette and property forms are built from it.

It is the same table the validator reads, so a form offers exactly what a save accepts.
"""

from __future__ import annotations

import json
from typing import Any

from flowyard.engine.specs import CONDITION_OPERATORS, WIDGET_SPECS, PropertySpec, WidgetSpec


def property_json(prop: PropertySpec) -> dict[str, Any]:
    """One property, with only the fields that say something."""
    data: dict[str, Any] = {"name": prop.name, "label": prop.label, "kinds": list(prop.kinds)}
    if prop.description:
        data["description"] = prop.description
    if prop.required:
        data["required"] = True
    if prop.enum:
        data["enum"] = list(prop.enum)
        data["enum_strict"] = prop.enum_strict
    if not prop.liquid:
        data["liquid"] = False
    for key in ("pattern", "pattern_message", "minimum", "maximum", "default"):
        value = getattr(prop, key)
        if value not in (None, ""):
            data[key] = value
    if prop.items is not None:
        data["items"] = property_json(prop.items)
    if prop.fields:
        data["fields"] = [property_json(f) for f in prop.fields]
    return data


def widget_json(spec: WidgetSpec) -> dict[str, Any]:
    return {
        "type": spec.type,
        "label": spec.label,
        "category": spec.category,
        "description": spec.description,
        "events": list(spec.events),
        "properties": [property_json(p) for p in spec.properties if p.name != "offset"],
        "require_one_of": [list(group) for group in spec.require_one_of],
        "rest_only": spec.rest_only,
    }


def specs_payload() -> dict[str, Any]:
    """``{"widgets": {type: spec}, "operators": [...]}``, in the table's order."""
    return {
        "widgets": {t: widget_json(s) for t, s in WIDGET_SPECS.items()},
        "operators": list(CONDITION_OPERATORS),
    }


def specs_module() -> str:
    """An ES module exporting the payload, served as a cacheable static asset."""
    return "export default " + json.dumps(specs_payload(), separators=(",", ":")) + ";\n"
