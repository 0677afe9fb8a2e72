"""Debugger alerts: what the engine and the flow webhook report, as Monitor API rows.

Every engine error a user would want to see (a widget that failed, a limit, a Liquid error, an
execution that expired or broke) and every refused flow webhook becomes one alert, stored in the
transaction that commits what it describes, and logged as one line. Codes are Twilio's where
Twilio has one; docs/alerts.md lists the mapping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flowyard import engine
from flowyard.sids import new_sid
from flowyard.store.clock import utcnow

log = logging.getLogger("flowyard.alerts")

ERROR, WARNING = "error", "warning"
HTTP_RETRIEVAL = 11200  # Twilio: "HTTP retrieval failure"
WORKFLOW_TIMED_OUT = 84001  # Twilio: "Workflow execution timed out"
WORKFLOW_FAILED = 84002  # Twilio: "Workflow execution failed"
SIGNATURE_REFUSED = 20003  # Twilio: "Authentication failed"
# Event Streams: Twilio's codes for a sink's failed deliveries.
SINK_FAILED = 91300  # "Event delivery to sink failed" (no more precise cause)
SINK_REJECTED = 91305  # "Sink endpoint rejected the event" (4xx)
SINK_SERVER_ERROR = 91306  # "Sink endpoint returned a server error" (5xx)
SINK_UNREACHABLE = 91307  # "Could not connect to sink endpoint"
SINK_TIMED_OUT = 91308  # "Sink endpoint did not respond in time"

# Codes for engine errors that carry none of their own.
CODES = {"expired": WORKFLOW_TIMED_OUT}
# Warnings rather than errors: the execution went on, or ended as designed.
WARNINGS = frozenset({"expired", "dangling_transition", "regex_budget"})
# Bookkeeping, not failures: an input that arrived when nothing waited for it.
NOT_ALERTS = frozenset({"not_active", "not_parked", "unexpected_input", "ignored_input"})
MORE_INFO = "https://www.twilio.com/docs/api/errors/{code}"
MAX_PER_SPRINT = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """An engine error with what the host knows beside it: the request a failed service call
    made, and the platform's own error code when it refused one."""

    error: engine.EngineError
    method: str | None = None
    url: str | None = None
    platform_code: int | None = None


def more_info(code: int) -> str:
    return MORE_INFO.format(code=code)


def _row(
    account_sid: str,
    code: int,
    level: str,
    message: str,
    *,
    flow_sid: str | None = None,
    execution_sid: str | None = None,
    step_sid: str | None = None,
    widget: str | None = None,
    method: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    # Twilio's alert_text is a form-encoded list of fields; Msg is the readable part.
    fields = {
        "Msg": message,
        "ErrorCode": str(code),
        "LogLevel": level.upper(),
        "flowSid": flow_sid,
        "executionSid": execution_sid,
        "stepSid": step_sid,
        "widgetName": widget,
        "url": url,
    }
    now = utcnow()
    return {
        "sid": new_sid("NO"),
        "account_sid": account_sid,
        "resource_sid": flow_sid,
        "execution_sid": execution_sid,
        "step_sid": step_sid,
        "widget": widget,
        "error_code": code,
        "log_level": level,
        "message": message,
        "alert_text": urlencode({k: v for k, v in fields.items() if v is not None}),
        "request_method": method,
        "request_url": url,
        "request_variables": None,
        "response_body": None,
        "date_generated": now,
        "date_created": now,
    }


def code_of(problem: Problem) -> int:
    """The alert code of a problem: the platform's, the engine's, or Twilio's nearest."""
    error = problem.error
    return problem.platform_code or error.code or CODES.get(error.kind, WORKFLOW_FAILED)


def failures(problems: list[Problem]) -> list[tuple[str | None, int]]:
    """``(widget, code)`` of each problem worth an alert (what the metrics count)."""
    return [(p.error.widget, code_of(p)) for p in problems if p.error.kind not in NOT_ALERTS]


def from_problems(
    problems: list[Problem], account_sid: str, flow_sid: str, execution_sid: str
) -> list[dict[str, Any]]:
    """Alert rows for a sprint's problems (those worth an alert): the first
    ``MAX_PER_SPRINT`` and the fatal one, then a count of the rest (a loop through a failing
    widget must not write a thousand)."""
    worth = [p for p in problems if p.error.kind not in NOT_ALERTS]
    # The error that ended the execution is kept whatever came before it.
    kept = [p for i, p in enumerate(worth) if i < MAX_PER_SPRINT or p.error.fatal]
    rows = []
    for problem in kept:
        error = problem.error
        code = code_of(problem)
        where = f" at {error.widget}" if error.widget else ""
        rows.append(
            _row(
                account_sid,
                code,
                WARNING if error.kind in WARNINGS else ERROR,
                f"{error.kind}{where}: {error.message}",
                flow_sid=flow_sid,
                execution_sid=execution_sid,
                step_sid=error.step_sid,
                widget=error.widget,
                method=problem.method,
                url=problem.url,
            )
        )
    if len(worth) > len(kept):
        left_out = f"{len(worth) - len(kept)} more errors in this sprint were not recorded"
        rows.append(
            _row(
                account_sid,
                WORKFLOW_FAILED,
                WARNING,
                left_out,
                flow_sid=flow_sid,
                execution_sid=execution_sid,
            )
        )
    return rows


def broken(account_sid: str, flow_sid: str, execution_sid: str, message: str) -> dict[str, Any]:
    """An execution the runtime had to end (a resume that failed, a sprint unstorable)."""
    return _row(
        account_sid, WORKFLOW_FAILED, ERROR, message,
        flow_sid=flow_sid, execution_sid=execution_sid,
    )  # fmt: skip


def signature_refused(
    account_sid: str, flow_sid: str | None, url: str, reason: str
) -> dict[str, Any]:
    """A flow webhook request refused for its X-Twilio-Signature."""
    return _row(
        account_sid, SIGNATURE_REFUSED, WARNING,
        f"flow webhook refused: {reason} (signature checked against {url})",
        flow_sid=flow_sid, method="POST", url=url,
    )  # fmt: skip


def sink_code(error: str) -> int:
    """Twilio's Event Streams code for a delivery's error (``event_delivery`` words them:
    ``HTTP 503 from the sink``, ``ConnectError: …``, ``ReadTimeout: …``)."""
    if error.startswith("HTTP 4"):
        return SINK_REJECTED
    if error.startswith("HTTP 5"):
        return SINK_SERVER_ERROR
    kind = error.partition(":")[0]
    if "Timeout" in kind:
        return SINK_TIMED_OUT
    if "Connect" in kind or kind == "DestinationDenied":
        return SINK_UNREACHABLE
    return SINK_FAILED


def sink_failed(account_sid: str, sink_sid: str, failures: int, error: str) -> dict[str, Any]:
    """An Event Streams sink marked ``failed``: the alert names it (``resource_sid``)."""
    code = sink_code(error)
    row = _row(
        account_sid, code, ERROR,
        f"Event Streams sink {sink_sid} failed: {failures} deliveries in a row did not "
        f"reach it; events wait and are retried (last error: {error})",
    )  # fmt: skip
    fields = {"Msg": row["message"], "ErrorCode": code, "LogLevel": "ERROR", "sinkSid": sink_sid}
    return {**row, "resource_sid": sink_sid, "alert_text": urlencode(fields)}


def log_rows(rows: list[dict[str, Any]]) -> None:
    """One log line per alert, after it was stored."""
    for row in rows:
        log.log(
            logging.ERROR if row["log_level"] == ERROR else logging.WARNING,
            "alert %s %s: %s",
            row["sid"],
            row["error_code"],
            row["message"],
            extra={
                "alert_sid": row["sid"],
                "error_code": row["error_code"],
                "account_sid": row["account_sid"],
                "flow_sid": row["resource_sid"],
                "execution_sid": row["execution_sid"],
                "step_sid": row["step_sid"],
                "widget": row["widget"],
            },
        )
