"""Validate response bodies against the official Studio (and Monitor, Conversations) OpenAPI
documents in ../shared/spec.

``check(response, "/v2/Flows/{Sid}")`` finds the operation (path template + the request's method),
requires the response status to be one the operation declares, and validates the JSON body
against that status's schema with the OAS 3.0 validator (``$ref``s resolve to the document's
components). Operations without a response body (204) must answer with an empty body.

Exact mode (the default) is stricter than the spec's schemas, which neither require a
property nor forbid extra ones: every property a schema declares must be present (``null``
where the schema allows it) and no undeclared property may appear (Studio's exact field names,
nothing missing, nothing extra); dates must be the one form twilio-python parses
(``YYYY-MM-DDTHH:MM:SSZ``) and ``uri`` fields absolute http(s) URLs.

The documents are read from ../shared through ``shared_path``, so callers skip cleanly when the
folder is absent.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.conftest import shared_path

METHODS = ("get", "post", "delete", "put", "patch")

# In exact mode dates must be the one form twilio-python parses (``YYYY-MM-DDTHH:MM:SSZ``) and
# ``uri`` fields absolute http(s) URLs: the stock OAS checker accepts any RFC 3339 date and
# does not check ``uri`` at all.
_TWILIO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
EXACT_FORMATS = FormatChecker(formats=())
EXACT_FORMATS.checkers = dict(oas30_format_checker.checkers)


@EXACT_FORMATS.checks("date-time")
def _twilio_date(value: object) -> bool:
    return not isinstance(value, str) or _TWILIO_DATE.fullmatch(value) is not None


@EXACT_FORMATS.checks("uri")
def _absolute_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@functools.cache
def document(version: int | str) -> dict[str, Any]:
    """The parsed twilio_studio_v{version}.json (or twilio_{version}.json: ``"monitor_v1"``)."""
    name = f"studio_v{version}" if isinstance(version, int) else version
    path = shared_path("spec", f"twilio_{name}.json")
    return json.loads(path.read_text())


def _version_of(template: str) -> int | str:
    if template.startswith("/v1/Alerts"):
        return "monitor_v1"
    if template.startswith(("/v1/Conversations", "/v1/Services/{ChatServiceSid}/Conversations")):
        return "conversations_v1"
    if template.startswith(("/v1/Sinks", "/v1/Subscriptions", "/v1/Types", "/v1/Schemas")):
        return "events_v1"
    prefix = template.split("/")[1]
    if prefix not in ("v1", "v2"):
        raise ValueError(f"{template} is not a Studio v1/v2 or Monitor v1 path")
    return int(prefix[1])


def operations(version: int | str) -> set[tuple[str, str]]:
    """Every ``(METHOD, path template)`` the document declares."""
    return {
        (method.upper(), path)
        for path, item in document(version)["paths"].items()
        for method in item
        if method in METHODS
    }


def _exact(node: Any) -> Any:
    """A copy of a schema where objects must carry exactly their declared properties."""
    if isinstance(node, list):
        return [_exact(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _exact(value) for key, value in node.items()}
    if out.get("nullable") and isinstance(out.get("enum"), list) and None not in out["enum"]:
        # A nullable enum admits null (OAS 3.0.3 wants it listed; Twilio's documents don't).
        out["enum"] = [*out["enum"], None]
    if isinstance(out.get("properties"), dict) and out["properties"]:
        out.setdefault("additionalProperties", False)
        out["required"] = sorted(out["properties"])
    return out


@functools.cache
def _components(version: int | str, exact: bool) -> dict[str, Any]:
    components = copy.deepcopy(document(version)["components"])
    return _exact(components) if exact else components


def response_schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema of one response, or None when the spec declares no body for it.

    Fails (AssertionError) when the spec has no such operation or no such status for it.
    """
    paths = document(_version_of(template))["paths"]
    assert template in paths, f"{template} is not a path of the spec"
    operation = paths[template].get(method.lower())
    assert operation is not None, f"{method} {template} is not an operation of the spec"
    responses = operation["responses"]
    assert str(status) in responses, (
        f"{method} {template} answered {status}; the spec declares {sorted(responses)}"
    )
    content = responses[str(status)].get("content")
    if not content:
        return None
    return content["application/json"]["schema"]


def validate_body(
    template: str, method: str, status: int, body: Any, *, exact: bool = True
) -> None:
    """Validate a parsed body against its operation's response schema (raises on mismatch)."""
    schema = response_schema(template, method, status)
    assert schema is not None, f"{method} {template} {status} has no body in the spec"
    version = _version_of(template)
    root = {**(_exact(schema) if exact else schema), "components": _components(version, exact)}
    checker = EXACT_FORMATS if exact else oas30_format_checker
    validator = OAS30Validator(root, format_checker=checker)
    problems = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [f"  at {list(p.absolute_path)}: {p.message}" for p in problems[:20]]
        raise AssertionError(
            f"{method} {template} {status}: body does not match the spec\n" + "\n".join(lines)
        )


def check(response: httpx.Response, template: str, *, exact: bool = True) -> Any:
    """Validate an httpx response against the spec; returns the parsed body (None for 204)."""
    method = response.request.method
    schema = response_schema(template, method, response.status_code)
    if schema is None:
        assert response.content == b"", (
            f"{method} {template} {response.status_code} must have no body, got "
            f"{response.content[:200]!r}"
        )
        return None
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    validate_body(template, method, response.status_code, body, exact=exact)
    return body
