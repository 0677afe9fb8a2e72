"""Log lines for ``flowyard serve``: text or JSON, one line per record, on standard error.

Flowyard's loggers (``flowyard``, ``flowyard.access``, ``flowyard.webhook``, ...) and uvicorn's
share one handler. ``uvicorn_log_config`` is a ``logging.config.dictConfig`` dictionary:
uvicorn applies it in the server process and again in each ``--workers`` process.
"""

from __future__ import annotations

import logging
import logging.config
import time
from typing import Any

import orjson

LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10, "trace": 5}
FORMATS = ("text", "json")

# Attributes every LogRecord has; anything else on a record came from ``extra={...}``.
# uvicorn adds ``color_message`` (its message with ANSI colours) to its own records.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _utc(record: logging.LogRecord) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2025-05-01T12:00:00.123Z``."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


def printable(text: str) -> str:
    """``text`` safe inside one quoted text line: control characters and quotes escaped (a
    request path or header is the client's, and must not start a line of its own)."""
    if text.isprintable() and '"' not in text:
        return text
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with ``extra={...}``."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and k[0] != "_"}


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger>: <message>``, then the traceback if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the record's
    ``extra`` fields, and ``exc`` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)  # an extra field never hides one of the four above
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def check(level: str, fmt: str) -> tuple[str, str]:
    """``(level, fmt)`` lower-cased, or ValueError naming what is accepted."""
    level, fmt = level.lower(), fmt.lower()
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r} is not one of {', '.join(FORMATS)}")
    return level, fmt


def uvicorn_log_config(level: str, fmt: str) -> dict[str, Any]:
    """The dictConfig for uvicorn's ``log_config``: Flowyard's and uvicorn's loggers at
    ``level`` in format ``fmt``; other libraries' warnings in the same format."""
    level, fmt = check(level, fmt)
    number = LEVELS[level]
    formatter = "flowyard.logs.JsonFormatter" if fmt == "json" else "flowyard.logs.TextFormatter"
    ours = {"handlers": ["flowyard"], "level": number, "propagate": False}
    return {
        "version": 1,
        # Loggers made at import time (flowyard.runtime, ...) must keep working.
        "disable_existing_loggers": False,
        "formatters": {"flowyard": {"()": formatter}},
        "handlers": {
            "flowyard": {
                "class": "logging.StreamHandler",
                "formatter": "flowyard",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "flowyard": ours,
            "uvicorn": ours,
            "uvicorn.error": {"level": number},
            # Flowyard writes its own access lines (flowyard.api.access_log).
            "uvicorn.access": {"handlers": [], "level": number, "propagate": False},
        },
        # SQLAlchemy, Alembic, httpx, ...: their warnings, not their chatter.
        "root": {"handlers": ["flowyard"], "level": max(number, logging.WARNING)},
    }


def configure(level: str, fmt: str) -> None:
    """Set up this process's logging (uvicorn applies the same in its workers)."""
    logging.addLevelName(LEVELS["trace"], "TRACE")
    logging.config.dictConfig(uvicorn_log_config(level, fmt))


def configure_unless_done(level: str, fmt: str) -> None:
    """Set up Flowyard's loggers when nothing did: an app started by plain ``uvicorn --factory
    flowyard.api.app:app_from_env`` logs as ``flowyard serve`` would (uvicorn's own lines keep
    uvicorn's format there)."""
    flowyard = logging.getLogger("flowyard")
    if flowyard.handlers:
        return
    level, fmt = check(level, fmt)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    flowyard.addHandler(handler)
    flowyard.setLevel(LEVELS[level])
    flowyard.propagate = False
