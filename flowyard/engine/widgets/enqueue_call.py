"""Enqueue Call (``enqueue-call``): ``<Enqueue>`` into a named queue or a TaskRouter workflow.

The action's ``QueueResult`` picks the event: bridged/hangup → ``callComplete``,
error/system-error → ``failedToEnqueue``, anything else → ``callFailure``.
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import callback, no_call, queue_outcome, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, register

ACTION = "callComplete"


@register
class EnqueueCall(Widget):
    type = "enqueue-call"

    def enter(self, run: WidgetRun) -> Outcome:
        workflow = run.prop("workflow_sid").strip()
        common = {
            "wait_url": run.prop("wait_url").strip(),
            "wait_url_method": run.prop("wait_url_method").strip(),
        }
        if workflow:
            task = verb(
                "task",
                run.prop("task_attributes").strip() or "{}",
                priority=run.number("priority"),
                timeout=run.number("timeout"),
            )
            enqueue = verb(
                "enqueue", action=ACTION, children=[task], workflow_sid=workflow, **common
            )
        else:
            enqueue = verb("enqueue", run.prop("queue_name").strip(), action=ACTION, **common)
        return twiml([enqueue], [ACTION])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        return Next(*queue_outcome(run, cb))
