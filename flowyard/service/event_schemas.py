"""The JSON Schemas of the ``data`` of each event Flowyard emits, served by ``/v1/Schemas``.

One schema per schema id (``Studio.FlowExecutionEvent``, ``Studio.FlowStepEvent``,
``ErrorLogs.Error``), the same for each of its versions: Flowyard emits one shape whatever
version a subscription names. ``service.events`` builds the data these schemas describe;
tests/e2e/test_event_schemas.py checks delivered events against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowyard.service.events import TYPES

PUBLISHED = "2024-01-01T00:00:00Z"  # when these schemas were last changed
_DATE = {"type": "string", "format": "date-time"}
_SID = {"type": "string", "pattern": "^[A-Z]{2}[0-9a-fA-F]{32}$"}
_NULLABLE_SID = {"type": ["string", "null"], "pattern": "^[A-Z]{2}[0-9a-fA-F]{32}$"}


def _object(title: str, properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_EXECUTION = _object(
    "Studio.FlowExecutionEvent: the data of execution started and ended",
    {
        "execution_sid": _SID,
        "account_sid": _SID,
        "flow_sid": _SID,
        "contact_channel_address": {"type": ["string", "null"]},
        "status": {"enum": ["active", "ended"]},
        "date_created": _DATE,
        "date_updated": _DATE,
        "started_by": {"type": ["string", "null"]},
        "flow_revision": {"type": "integer"},
        "ended_reason": {
            "enum": [
                "FLOW_END",
                "ERROR",
                "STEP_LIMIT",
                "SAME_WIDGET_LIMIT",
                "EXPIRED",
                "ENDED",
                "HOST_ERROR",
            ],
        },
    },
    optional=("ended_reason",),
)
_STEP = _object(
    "Studio.FlowStepEvent: the data of step ended",
    {
        "account_sid": _SID,
        "flow_sid": _SID,
        "execution_sid": _SID,
        "step_sid": _SID,
        "parent_step_sid": _NULLABLE_SID,
        "name": {"type": "string"},
        "transitioned_from": {"type": "string"},
        "transitioned_to": {"type": "string"},
        "date_created": _DATE,
    },
)
_ERROR = _object(
    "ErrorLogs.Error: the data of error logged (a Debugger alert)",
    {
        "sid": _SID,
        "account_sid": _SID,
        "master_account_sid": _SID,
        "date_created": _DATE,
        "level": {"enum": ["ERROR", "WARNING"]},
        "request_sid": {"type": "null"},
        "service_sid": _NULLABLE_SID,
        "correlation_sid": _NULLABLE_SID,
        "product_name": {"enum": ["Studio", "Event Streams"]},
        "error_code": {"type": "string", "pattern": "^[0-9]+$"},
        "payload": {
            "type": "string",
            "description": "A JSON object: resource_sid, service_sid, error_code, more_info, "
            "message, execution_sid, step_sid, widget_name, webhook.request.{method,url}",
        },
    },
)


@dataclass(frozen=True)
class Schema:
    id: str
    latest: int
    data: dict[str, Any]


def _latest(schema_id: str) -> int:
    return max(t.version for t in TYPES.values() if t.schema_id == schema_id)


SCHEMAS = {
    name: Schema(name, _latest(name), data)
    for name, data in (
        ("Studio.FlowExecutionEvent", _EXECUTION),
        ("Studio.FlowStepEvent", _STEP),
        ("ErrorLogs.Error", _ERROR),
    )
}
