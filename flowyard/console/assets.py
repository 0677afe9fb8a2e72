"""Static assets: read once, content-hashed URLs, long cache headers and pre-gzipped bodies.

Pages refer to ``/console/static/NAME?v=HASH``; such a URL never changes content, so it is
cached for a year. ES modules import each other by plain relative names, and the import map
in every page rewrites those to the hashed URLs, so no bundler is needed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from flowyard.console.specs_json import specs_module

STATIC = Path(__file__).parent / "static"
PREFIX = "/console/static/"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".ico": "image/x-icon",
    ".png": "image/png",
}
_IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    digest: str


def _asset(name: str, body: bytes) -> Asset:
    media_type = _TYPES.get(Path(name).suffix, "application/octet-stream")
    digest = hashlib.sha256(body).hexdigest()[:12]
    compressible = media_type.startswith(("text/", "application/json", "image/svg"))
    gzipped = gzip.compress(body, 6, mtime=0) if compressible and len(body) > 512 else None
    return Asset(body, gzipped, media_type, digest)


@cache
def assets() -> dict[str, Asset]:
    """Every file under ``static/`` plus the generated widget table ``specs.js``."""
    table = {
        path.relative_to(STATIC).as_posix(): _asset(path.name, path.read_bytes())
        for path in sorted(STATIC.rglob("*"))
        if path.is_file()
    }
    table["specs.js"] = _asset("specs.js", specs_module().encode())
    return table


def url(name: str) -> str:
    """The versioned URL of an asset."""
    return f"{PREFIX}{name}?v={assets()[name].digest}"


@cache
def import_map() -> str:
    """The ``<script type="importmap">`` body mapping each module to its versioned URL."""
    imports = {PREFIX + name: url(name) for name in assets() if name.endswith(".js")}
    return json.dumps({"imports": imports}, separators=(",", ":"))


async def static(request: Request) -> Response:
    """Serve one asset; a matching ``v`` is cached for good, anything else revalidated."""
    name = request.path_params["path"]
    asset = assets().get(name)
    if asset is None:
        return Response("Not found", 404, media_type="text/plain")
    etag = f'"{asset.digest}"'
    versioned = request.query_params.get("v") == asset.digest
    headers = {
        "Cache-Control": _IMMUTABLE if versioned else "no-cache",
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)
