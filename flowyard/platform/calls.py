"""Call and recording resources in the two spellings Studio users meet.

Widget outputs use PascalCase (``widgets.call.Sid``); the 2010-04-01 REST resource uses
snake_case and RFC 2822 dates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from flowyard.platform import CallRequest


def _rfc2822(value: Any) -> str | None:
    return format_datetime(value.replace(tzinfo=UTC)) if value is not None else None


def placed_call_row(
    request: CallRequest,
    sid: str,
    now: datetime,
    *,
    direction: str = "outbound-api",
    from_: str | None = None,
    to: str | None = None,
    status: str = "queued",
) -> dict[str, Any]:
    """The row a placed call is stored as; ``from_``/``to`` default to the request's."""
    return {
        "sid": sid,
        "account_sid": request.account_sid,
        "flow_sid": None,
        "execution_sid": request.execution_sid,
        "direction": direction,
        "from_": from_ or request.from_,
        "to": to or request.to,
        "status": status,
        "answered_by": None,
        "url": request.url,
        "options": orjson.dumps(request.options).decode(),
        "duration": None,
        "date_created": now,
        "date_updated": now,
    }


def call_outputs(row: dict[str, Any]) -> dict[str, Any]:
    """What the platform answered when a call was placed."""
    return {
        "Sid": row["sid"],
        "AccountSid": row["account_sid"],
        "To": row["to"],
        "From": row["from_"],
        "Status": row["status"],
        "Direction": row["direction"],
        "ApiVersion": "2010-04-01",
    }


def call_resource(row: Any) -> dict[str, Any]:
    """The 2010-04-01 Call resource that ``client.calls.list()`` reads."""
    uri = f"/2010-04-01/Accounts/{row.account_sid}/Calls/{row.sid}"
    return {
        "account_sid": row.account_sid,
        "answered_by": row.answered_by,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": _rfc2822(row.date_created),
        "date_updated": _rfc2822(row.date_updated),
        "direction": row.direction,
        "duration": None if row.duration is None else str(row.duration),
        "end_time": None,
        "forwarded_from": None,
        "from": row.from_,
        "from_formatted": row.from_,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": row.sid,
        "start_time": _rfc2822(row.date_created),
        "status": row.status,
        "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
        "to": row.to,
        "to_formatted": row.to,
        "trunk_sid": None,
        "uri": f"{uri}.json",
        # Flowyard's own: the TwiML URL a simulated call fetches when it is answered.
        "url": row.url,
    }


def recording_outputs(row: dict[str, Any]) -> dict[str, Any]:
    """Recording fields as record-call stores them."""
    return {
        "Sid": row["sid"],
        "AccountSid": row["account_sid"],
        "CallSid": row["call_sid"],
        "Status": row["status"],
        "Channels": str(row.get("channels") or 1),
        "Source": row.get("source") or "StartCallRecordingAPI",
        "Uri": f"/2010-04-01/Accounts/{row['account_sid']}/Calls/{row['call_sid']}"
        f"/Recordings/{row['sid']}.json",
    }


def recording_resource(row: Any) -> dict[str, Any]:
    """The 2010-04-01 Recording resource under a call (``client.calls(sid).recordings``)."""
    uri = f"/2010-04-01/Accounts/{row.account_sid}/Recordings/{row.sid}"
    return {
        "account_sid": row.account_sid,
        "api_version": "2010-04-01",
        "call_sid": row.call_sid,
        "conference_sid": None,
        "channels": row.channels,
        "date_created": _rfc2822(row.date_created),
        "date_updated": _rfc2822(row.date_updated),
        "start_time": _rfc2822(row.date_created),
        "duration": None if row.duration is None else str(row.duration),
        "encryption_details": None,
        "error_code": None,
        "media_url": f"https://api.twilio.com{uri}",
        "price": None,
        "price_unit": "USD",
        "sid": row.sid,
        "source": row.source,
        "status": row.status,
        "track": "both",
        "uri": f"/2010-04-01/Accounts/{row.account_sid}/Calls/{row.call_sid}"
        f"/Recordings/{row.sid}.json",
        "subresource_uris": {"transcriptions": f"{uri}/Transcriptions.json"},
    }
