"""JSON responses serialised with orjson, and the Twilio date format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response


def twilio_date(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ``: the only form twilio-python parses into a datetime."""
    if value is None:
        return None
    # The store's timestamps (naive, whole seconds, 4-digit years) print the same through
    # isoformat, at a fifth of strftime's cost; others would gain fractions, offsets, zeros.
    plain = type(value) is datetime and value.tzinfo is None and not value.microsecond
    if plain and value.year >= 1000:
        return value.isoformat() + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def raw_json(text: str | None) -> Any:
    """Embed stored JSON text without parsing it again."""
    return orjson.Fragment(text) if text is not None else None


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def no_content() -> Response:
    return Response(status_code=204)
