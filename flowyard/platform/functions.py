"""Where a Run Function given by SIDs lives: its URL, from a mapping or the Serverless API.

Real-account exports name a Function by ``service_sid``/``environment_sid``/``function_sid``
with an empty ``url``. ``FLOWYARD_FUNCTIONS`` maps a ``function_sid`` (or the widget's name)
to a URL, on any platform; the ``twilio`` platform asks the Serverless API for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

# (service_sid, environment_sid, function_sid) -> URL; raises LookupError with a reason.
Lookup = Callable[[str, str, str], Awaitable[str]]


def load_mapping(raw: str | None) -> dict[str, str]:
    """``FLOWYARD_FUNCTIONS``: a JSON object, or the path of a file holding one."""
    if not raw or not raw.strip():
        return {}
    text = raw.strip()
    if not text.startswith("{"):
        text = Path(text).expanduser().read_text()
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("FLOWYARD_FUNCTIONS must be a JSON object of SID or name -> URL")
    return {str(k): str(v) for k, v in data.items()}


class Functions:
    """Resolves a function call's URL: the mapping first, then ``lookup`` (if any)."""

    def __init__(self, mapping: Mapping[str, str], lookup: Lookup | None = None) -> None:
        self.mapping = dict(mapping)
        self.lookup = lookup

    async def url(self, request: Mapping[str, Any], widget: str) -> tuple[str | None, str]:
        """(URL, "") or (None, why not)."""
        sids = [str(request.get(k) or "") for k in ("service_sid", "environment_sid")]
        function_sid = str(request.get("function_sid") or "")
        for key in (function_sid, widget):
            if key and key in self.mapping:
                return self.mapping[key], ""
        if self.lookup is None or not all(sids):
            return None, (
                f"Function {function_sid or '?'} ({widget}) has no URL: map it in "
                "FLOWYARD_FUNCTIONS"
            )
        try:
            return await self.lookup(sids[0], sids[1], function_sid), ""
        except LookupError as exc:
            return None, str(exc)
