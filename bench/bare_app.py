"""The baseline for ``bench/api.py``: a bare Starlette app reading one flow with stdlib sqlite3.

It serves ``GET /v2/Flows/{sid}`` from its own SQLite file and answers the same JSON fields as
Flowyard (definition included, embedded as stored text), behind the same uvicorn settings as
``flowyard serve``: one worker, ``warning`` log level, no access log. It checks the Basic
``Authorization`` header against the one it was given, a string compare, so it does the least
work any real server must do.

    python bench/bare_app.py --port 8001 --db /tmp/bare.db --seed flow.json --auth 'Basic ...'

``--seed`` is a JSON file holding one Flowyard flow resource (as fetched); it is stored at start.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COLUMNS = (
    "sid",
    "account_sid",
    "author_sid",
    "friendly_name",
    "definition",
    "status",
    "revision",
    "commit_message",
    "valid",
    "errors",
    "warnings",
    "date_created",
    "date_updated",
)
JSON_COLUMNS = ("definition", "errors", "warnings")


def seed_database(path: Path, flow: dict[str, Any]) -> None:
    """Create the one-table schema and store ``flow`` (JSON fields as compact text)."""
    values = [orjson.dumps(flow[c]).decode() if c in JSON_COLUMNS else flow[c] for c in COLUMNS]
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"CREATE TABLE IF NOT EXISTS flows ({', '.join(COLUMNS)}, PRIMARY KEY (sid))")
        placeholders = ", ".join("?" for _ in COLUMNS)
        conn.execute(f"INSERT OR REPLACE INTO flows VALUES ({placeholders})", values)
    conn.close()


def create_app(path: Path, authorization: str) -> Starlette:
    """The app: one route, one shared connection, one indexed SELECT per request."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    select = f"SELECT {', '.join(COLUMNS)} FROM flows WHERE sid = ?"

    async def fetch_flow(request: Request) -> Response:
        if request.headers.get("authorization") != authorization:
            return Response(b'{"status": 401}', 401, media_type="application/json")
        row = conn.execute(select, (request.path_params["sid"],)).fetchone()
        if row is None:
            return Response(b'{"status": 404}', 404, media_type="application/json")
        flow = dict(zip(COLUMNS, row, strict=True))
        for name in JSON_COLUMNS:
            flow[name] = orjson.Fragment(flow[name])
        flow["valid"] = bool(flow["valid"])
        base = f"{request.url.scheme}://{request.headers['host']}"
        url = f"{base}/v2/Flows/{flow['sid']}"
        flow["webhook_url"] = f"{base}/v1/Accounts/{flow['account_sid']}/Flows/{flow['sid']}"
        flow["url"] = url
        flow["links"] = {
            "test_users": f"{url}/TestUsers",
            "revisions": f"{url}/Revisions",
            "executions": f"{url}/Executions",
        }
        return Response(orjson.dumps(flow), media_type="application/json")

    return Starlette(routes=[Route("/v2/Flows/{sid}", fetch_flow, methods=["GET"])])


def main() -> None:
    """Seed the database if asked, then serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--seed", type=Path, help="JSON file holding one flow resource")
    parser.add_argument("--auth", required=True, help="the exact Authorization header to accept")
    args = parser.parse_args()
    if args.seed:
        seed_database(args.db, orjson.loads(args.seed.read_bytes()))
    uvicorn.run(
        create_app(args.db, args.auth),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
