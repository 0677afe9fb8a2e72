"""Log lines for ``flowyard serve``: text or JSON, one line per record, on standard error.

Flowyard's loggers (``flowyard``, ``flowyard.access``, ``flowyard.webhook``, ...) and uvicorn's
share one handler. ``uvicorn_log_config`` is a ``logging.config.dictConfig`` dictionary:
uvicorn applies it in the server process and again in each ``--workers`` process.
"""

from __future__ import annotations

import asyncio
import io
import logging
import logging.config
import sys
import time
from typing import Any

import orjson

LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10, "trace": 5}
FORMATS = ("text", "json")
# Under load a write (a system call) per line costs more than the line: lines are written
# together at most this long after the first of them.
FLUSH_SECONDS = 0.05

# Attributes every LogRecord has; anything else on a record came from ``extra={...}``.
# uvicorn adds ``color_message`` (its message with ANSI colours) to its own records.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


_second: tuple[int, str] = (-1, "")


def utc(created: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2025-05-01T12:00:00.123Z``."""
    global _second
    second = int(created)
    if _second[0] != second:  # strftime once a second, not once a line
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second[1]}.{int((created - second) * 1000):03d}Z"


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

    def line(self, created: float, level: str, name: str, message: str, fields: dict) -> str:
        """One record's line, from its parts (``fields`` are JSON's alone)."""
        return f"{utc(created)} {level} {name}: {message}"

    def format(self, record: logging.LogRecord) -> str:
        text = self.line(record.created, record.levelname, record.name, record.getMessage(), {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the record's
    ``extra`` fields, and ``exc`` (the formatted traceback) when there is one."""

    def line(self, created: float, level: str, name: str, message: str, fields: dict) -> str:
        """One record's line, from its parts."""
        entry = {"time": utc(created), "level": level, "logger": name, "message": message}
        for key, value in fields.items():
            entry.setdefault(key, value)  # an extra field never hides one of the four above
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()

    def format(self, record: logging.LogRecord) -> str:
        fields = extra_fields(record)
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exc"] = record.exc_text
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return self.line(record.created, record.levelname, record.name, record.getMessage(), fields)


class LineHandler(logging.StreamHandler):
    """Standard error, written in batches from the event loop: a flush per record would be a
    system call per request on the hot path. Outside a running loop (start-up, threads,
    shutdown) each record is flushed at once, and ``logging.shutdown`` flushes at exit."""

    def __init__(self) -> None:
        raw = open(sys.stderr.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115
        super().__init__(io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace"))
        self._flush_on: asyncio.AbstractEventLoop | None = None
        # What no line of ours shows is not worth finding out for every record (the logging
        # HOWTO's "Optimization"): the caller's frame, thread and process. Here, not in
        # configure(): uvicorn's workers build this handler from the dictConfig alone.
        logging._srcfile = None  # type: ignore[attr-defined]
        logging.logThreads = False
        logging.logProcesses = False
        logging.logMultiprocessing = False

    @property
    def structured(self) -> bool:
        """Whether lines carry ``extra`` fields (JSON) or only the message (text)."""
        return isinstance(self.formatter, JsonFormatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record))
        except Exception:
            self.handleError(record)

    def write_lines(self, name: str, lines: list[tuple[float, str, dict[str, Any]]]) -> None:
        """INFO lines of logger ``name``, each ``(time, message, fields)``, written as ``emit``
        would write their records, without LogRecords: the access log's, in batches."""
        formatter: Any = self.formatter
        text = "".join(formatter.line(t, "INFO", name, m, f) + "\n" for t, m, f in lines)
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(text)
                self.flush()
            except Exception:
                self.handleError(logging.makeLogRecord({"name": name, "msg": text}))

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        loop = asyncio.events._get_running_loop()
        if loop is None:
            self.flush()
        elif self._flush_on is not loop:  # one flush for the lines of the next FLUSH_SECONDS
            self._flush_on = loop
            loop.call_later(FLUSH_SECONDS, self._flush_turn)

    def _flush_turn(self) -> None:
        self._flush_on = None
        self.flush()


def direct_handler(logger: logging.Logger) -> LineHandler | None:
    """The one LineHandler with a formatter of ours that handles ``logger``'s INFO records,
    when no filter or other handler is on their way: then ``write_lines`` writes what logging
    would (a logger configured otherwise gets LogRecords as usual)."""
    found = None
    node: logging.Logger | None = logger
    while node is not None:
        if node.filters:
            return None
        for handler in node.handlers:
            if (
                found
                or type(handler) is not LineHandler
                or handler.filters
                or handler.level > logging.INFO
            ):
                return None
            found = handler
        node = node.parent if node.propagate else None
    if found and type(found.formatter) in (TextFormatter, JsonFormatter):
        return found
    return None


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
                "class": "flowyard.logs.LineHandler",
                "formatter": "flowyard",
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
