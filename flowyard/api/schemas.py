"""Events API v1 ``Schemas``: the versioned schemas of the event types Flowyard emits (a
Type's ``schema_id``), each version's ``raw`` the JSON Schema of the event's ``data``.

Twilio's ``raw`` points at its own schema host; Flowyard's at ``…/Versions/{N}/Raw`` on
itself, so a receiver can fetch what it validates against. docs/event-streams.md.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowyard.api.auth import account_sid
from flowyard.api.events import list_slice
from flowyard.api.paging import envelope, window_from
from flowyard.api.requests import base_url, query
from flowyard.api.responses import JSON
from flowyard.errors import not_found
from flowyard.service.event_schemas import PUBLISHED, SCHEMAS, Schema


def _schema(request: Request) -> Schema:
    found = SCHEMAS.get(request.path_params["id"])
    if found is None:
        raise not_found(f"/Schemas/{request.path_params['id']}")
    return found


def _version(request: Request, schema: Schema) -> int:
    raw = request.path_params["version"]
    if not raw.isdigit() or not 1 <= int(raw) <= schema.latest:
        raise not_found(f"/Schemas/{schema.id}/Versions/{raw}")
    return int(raw)


def version_resource(schema: Schema, version: int, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Schemas/{quote(schema.id)}/Versions/{version}"
    return {
        "id": schema.id,
        "schema_version": version,
        "date_created": PUBLISHED,
        "url": url,
        "raw": f"{url}/Raw",
    }


async def fetch_schema(request: Request) -> Response:
    account_sid(request)
    schema = _schema(request)
    url = f"{base_url(request)}/v1/Schemas/{quote(schema.id)}"
    return JSON(
        {
            "id": schema.id,
            "url": url,
            "links": {"versions": f"{url}/Versions"},
            "latest_version_date_created": PUBLISHED,
            "latest_version": schema.latest,
        }
    )


async def list_versions(request: Request) -> Response:
    account_sid(request)
    schema = _schema(request)
    params = query(request)
    window, size, page = window_from(params)
    result = list_slice(list(range(1, schema.latest + 1)), window)
    base = base_url(request)
    return JSON(
        envelope(
            "schema_versions",
            [version_resource(schema, v, base) for _, v in result.rows],
            base=base,
            path=f"/v1/Schemas/{quote(schema.id)}/Versions",
            filters=[],
            params=params,
            size=size,
            page=page,
            result=result,
            key_of=lambda row: row[0],
        )
    )


async def fetch_version(request: Request) -> Response:
    account_sid(request)
    schema = _schema(request)
    return JSON(version_resource(schema, _version(request, schema), base_url(request)))


async def raw_version(request: Request) -> Response:
    """The JSON Schema itself: public, as Twilio's schema host is (it holds no account data)."""
    schema = _schema(request)
    version = _version(request, schema)
    url = f"{base_url(request)}/v1/Schemas/{quote(schema.id)}/Versions/{version}/Raw"
    return JSON({"$id": url, **schema.data})


routes = [
    Route("/v1/Schemas/{id}", fetch_schema, methods=["GET"]),
    Route("/v1/Schemas/{id}/Versions", list_versions, methods=["GET"]),
    Route("/v1/Schemas/{id}/Versions/{version}", fetch_version, methods=["GET"]),
    Route("/v1/Schemas/{id}/Versions/{version}/Raw", raw_version, methods=["GET"]),
]
