"""flowyard.logs formatters, the access line's account, the refused webhook's hint, the
database as logged at start: the pieces of tests/test_logs.py, without a server."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import sys
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from flowyard import logs
from flowyard.api import rejections
from flowyard.api.access_log import AccessLog, account_of
from flowyard.cli.serve import describe_database
from flowyard.config import Settings
from flowyard.testing.mocks import run_sync

SID = "AC" + "ab" * 16


def record(**extra: object) -> logging.LogRecord:
    rec = logging.LogRecord(
        "flowyard.alerts", logging.WARNING, __file__, 1, "alert %s", ("x",), None
    )
    rec.__dict__.update(extra)
    return rec


def test_json_has_the_four_fields_the_extras_and_the_exception() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = record(code=82002, flow_sid="FW1", time="not mine")
        rec.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(rec)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "flowyard.alerts"
    assert entry["message"] == "alert x" and entry["time"].endswith("Z")
    assert entry["time"] != "not mine"  # an extra never hides a field of its own
    assert entry["code"] == 82002 and entry["flow_sid"] == "FW1"
    assert "RuntimeError: boom" in entry["exc"]


def test_text_is_time_level_logger_message() -> None:
    line = logs.TextFormatter().format(record())
    stamp, level, rest = line.split(" ", 2)
    assert stamp.endswith("Z") and "T" in stamp
    assert (level, rest) == ("WARNING", "flowyard.alerts: alert x")


def test_uvicorn_log_config_is_checked() -> None:
    config = logs.uvicorn_log_config("DEBUG", "JSON")
    assert config["loggers"]["flowyard"]["level"] == logging.DEBUG
    assert config["formatters"]["flowyard"]["()"] == "flowyard.logs.JsonFormatter"
    with pytest.raises(ValueError, match="log format 'xml'"):
        logs.uvicorn_log_config("info", "xml")


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWYARD_LOG_FORMAT", "JSON")
    monkeypatch.setenv("FLOWYARD_ACCESS_LOG", "off")
    settings = Settings.from_env()
    assert (settings.log_format, settings.log_level, settings.access_log) == ("json", "info", False)


def test_printable_keeps_a_path_on_its_line() -> None:
    assert logs.printable("/v2/Flows/FW1") == "/v2/Flows/FW1"
    assert logs.printable('/v2/Flows/FW\n1" 200') == '/v2/Flows/FW\\n1\\" 200'


def basic(username: str, password: str = "secret") -> bytes:
    return b"Basic " + base64.b64encode(f"{username}:{password}".encode())


@pytest.mark.parametrize(
    ("path", "headers", "state", "expected"),
    [
        ("/v2/Flows", [(b"authorization", basic(SID))], None, SID),
        ("/v2/Flows", [(b"authorization", basic("SK" + "1" * 32))], None, "-"),
        ("/v2/Flows", [(b"authorization", basic("SK" + "1" * 32))], {"account_sid": SID}, SID),
        ("/v2/Flows", [(b"authorization", b"Basic !!!")], None, "-"),
        (f"/v1/Accounts/{SID}/Flows/FW1", [], None, SID),
        (f"/2010-04-01/Accounts/{SID}/Messages.json", [], None, SID),
        (f"/v2/Flows/{SID}x", [], None, "-"),
        ("/v2/Flows", [], None, "-"),
    ],
)
def test_the_account_of_a_request(
    path: str, headers: list[tuple[bytes, bytes]], state: dict | None, expected: str
) -> None:
    scope = {"type": "http", "path": path, "headers": headers}
    if state is not None:
        scope["state"] = state
    assert account_of(scope) == expected


def webhook_request(headers: dict[str, str], public_url: str | None) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=Settings(public_url=public_url)))
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": f"/v1/Accounts/{SID}/Flows/FW1",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
        "path_params": {"account": SID, "flow": "FW1"},
    }
    return Request(scope)


def rejected(caplog: pytest.LogCaptureFixture, request: Request, url: str, reason: str) -> str:
    with caplog.at_level(logging.WARNING, "flowyard.webhook"):
        rejections.log_rejected(request, url, reason)
    (line,) = caplog.records
    return line.getMessage()


def test_a_public_url_the_proxy_contradicts(caplog: pytest.LogCaptureFixture) -> None:
    headers = {"Host": "127.0.0.1:8000", "X-Forwarded-Host": "new.example.com:443"}
    request = webhook_request({**headers, "X-Forwarded-Proto": "https"}, "https://old.example.com")
    url = f"https://old.example.com/v1/Accounts/{SID}/Flows/FW1?executionSid=FN1&From=%2B1555"
    message = rejected(caplog, request, url, "mismatch")
    checked = f"https://old.example.com/v1/Accounts/{SID}/Flows/FW1?executionSid=…&From=…"
    assert f"checked against {checked} (FLOWYARD_PUBLIC_URL)" in message
    assert "set FLOWYARD_PUBLIC_URL=https://new.example.com" in message
    assert "1555" not in message and "FN1" not in message


def test_a_public_url_that_agrees_points_at_the_token(caplog: pytest.LogCaptureFixture) -> None:
    request = webhook_request({"Host": "127.0.0.1:8000"}, "https://flows.example.com")
    url = f"https://flows.example.com/v1/Accounts/{SID}/Flows/FW1"
    assert "another auth token" in rejected(caplog, request, url, "mismatch")


def test_a_forwarded_host_that_is_no_host_is_not_repeated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = webhook_request({"X-Forwarded-Host": "evil\r\nINFO forged"}, None)
    message = rejected(
        caplog, request, f"http://127.0.0.1:8000/v1/Accounts/{SID}/Flows/FW1", "missing"
    )
    assert "forged" not in message and "FLOWYARD_PUBLIC_URL is not set" in message


def test_the_database_as_logged() -> None:
    assert describe_database("sqlite:////tmp/a.db") == "SQLite /tmp/a.db"
    assert describe_database("sqlite://") == "SQLite :memory:"
    masked = describe_database("postgresql://flow:s3cret@db.example.com:5432/flows")
    assert masked == "postgresql://flow:***@db.example.com:5432/flows"
    masked = describe_database("postgresql://flow@db/flows?password=s3cret&sslmode=require")
    assert "s3cret" not in masked and "sslmode=require" in masked


@pytest.mark.parametrize("formatter", [logs.TextFormatter(), logs.JsonFormatter()])
def test_a_direct_line_is_the_line_logging_writes(formatter: logging.Formatter) -> None:
    rec = logging.makeLogRecord(
        {"name": "flowyard.access", "levelno": 20, "levelname": "INFO", "msg": "GET /", "a": 1}
    )
    assert formatter.format(rec) == formatter.line(rec.created, "INFO", rec.name, "GET /", {"a": 1})


def test_the_direct_handler_is_only_an_unfiltered_line_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for knob in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, knob, getattr(logging, knob))  # LineHandler sets them
    parent = logging.Logger("p")
    child = logging.Logger("p.c")
    child.parent = parent
    handler = logs.LineHandler()
    handler.setFormatter(logs.TextFormatter())
    parent.addHandler(handler)
    assert logs.direct_handler(child) is handler
    child.addFilter(lambda _record: True)
    assert logs.direct_handler(child) is None
    child.filters.clear()
    parent.addHandler(logging.StreamHandler())
    assert logs.direct_handler(child) is None


def test_an_error_that_escapes_is_logged_as_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def failing(scope: dict, receive: object, send: object) -> None:
        raise RuntimeError("boom")

    scope = {"type": "http", "method": "GET", "path": "/v2/Flows", "headers": [], "client": None}
    with caplog.at_level(logging.INFO, "flowyard.access"), pytest.raises(RuntimeError):
        run_sync(lambda: AccessLog(failing)(scope, None, None))  # type: ignore[arg-type]
    (line,) = caplog.records
    assert re.fullmatch(r'- "GET /v2/Flows HTTP/1\.1" 500 \d+\.\dms -', line.getMessage())
    assert (line.status, line.account_sid, line.client) == (500, None, "-")  # type: ignore[attr-defined]


def test_noted_lines_are_written_at_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    for knob in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, knob, getattr(logging, knob))
    handler = logs.LineHandler()
    handler.setStream(io.StringIO())
    handler.setFormatter(logs.JsonFormatter())
    flowyard = logging.getLogger("flowyard")
    monkeypatch.setattr(flowyard, "handlers", [handler])
    monkeypatch.setattr(flowyard, "propagate", False)
    monkeypatch.setattr(flowyard, "level", logging.INFO)
    logging.getLogger("flowyard.access").manager._clear_cache()

    async def app(scope: dict, receive: object, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def serve_one_then_stop() -> None:
        async def send(message: dict) -> None:
            pass

        http = {"type": "http", "method": "DELETE", "path": f"/2010-04-01/Accounts/{SID}/x"}
        access = AccessLog(app)  # type: ignore[arg-type]
        await access({**http, "headers": [], "client": ("10.0.0.1", 1)}, None, send)  # type: ignore[arg-type]
        assert handler.stream.getvalue() == ""  # noted, not written yet
        await access({"type": "lifespan"}, None, send)  # type: ignore[arg-type]

    run_sync(serve_one_then_stop)
    (line,) = [json.loads(text) for text in handler.stream.getvalue().splitlines()]
    assert line["logger"] == "flowyard.access" and line["status"] == 204
    assert (line["method"], line["account_sid"], line["client"]) == ("DELETE", SID, "10.0.0.1")
