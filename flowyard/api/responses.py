"""JSON responses serialised with orjson, and the Twilio date format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response


def twilio_date(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ``: the only form twilio-python parses into a datetime."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def raw_json(text: str | None) -> Any:
    """Embed stored JSON text without parsing it again."""
    return orjson.Fragment(text) if text is not None else None


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def no_content() -> Response:
    return Response(status_code=204)
