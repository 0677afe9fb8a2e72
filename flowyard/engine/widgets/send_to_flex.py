"""Send to Flex (``send-to-flex``), messaging side: create a TaskRouter task.

A ``task`` service call carries the workflow, task channel, the rendered ``attributes`` JSON
(refused without a call when it is not a JSON object), priority and timeout. The created
task's fields are the widget's outputs on ``callComplete``; a refusal takes
``failedToEnqueue`` and a transport failure ``callFailure`` (inferred).

On a call it answers with ``<Enqueue workflowSid>`` and a ``<Task>`` instead, and the
Enqueue action's ``QueueResult`` picks the event, as for Enqueue Call.
"""

from __future__ import annotations

import json
from typing import Any

from ..io import CallResult
from ._voice import callback, on_call, queue_outcome, twiml, verb
from .base import Call, Next, Outcome, Widget, WidgetRun, register, seconds


@register
class SendToFlex(Widget):
    type = "send-to-flex"
    failure_event = "failedToEnqueue"

    def enter(self, run: WidgetRun) -> Outcome:
        rendered = run.prop("attributes").strip() or "{}"
        try:
            attributes: Any = json.loads(rendered)
        except ValueError as exc:
            attributes, problem = None, f"task attributes are not valid JSON: {exc}"
        else:
            problem = "task attributes must be a JSON object"
        if not isinstance(attributes, dict):
            return Next("failedToEnqueue", {}, error=run.error("invalid_attributes", problem))
        timeout = run.prop("timeout", "").strip()
        if on_call(run):
            return self._enqueue(run, attributes, timeout)
        return Call(
            "task",
            {
                "workflow_sid": run.prop("workflow").strip(),
                "channel": run.prop("channel").strip(),
                "attributes": json.dumps(attributes, ensure_ascii=False, separators=(",", ":")),
                "priority": run.number("priority"),
                "timeout": seconds(timeout, 3600) if timeout else None,
            },
        )

    def _enqueue(self, run: WidgetRun, attributes: dict[str, Any], timeout: str) -> Outcome:
        task = verb(
            "task",
            json.dumps(attributes, ensure_ascii=False, separators=(",", ":")),
            priority=run.number("priority"),
            timeout=seconds(timeout, 3600) if timeout else None,
        )
        enqueue = verb(
            "enqueue",
            action="callComplete",
            children=[task],
            workflow_sid=run.prop("workflow").strip(),
            wait_url=run.prop("waitUrl").strip(),
            wait_url_method=run.prop("waitUrlMethod").strip(),
        )
        return twiml([enqueue], ["callComplete"])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is not None:
            return Next(*queue_outcome(run, cb))
        if result.ok:
            return Next("callComplete", dict(result.data or {}))
        error = run.error("task_failed", result.error or "could not create the task")
        if result.data is not None:
            return Next("failedToEnqueue", dict(result.data), error=error)
        return Next("callFailure", {}, error=error)
