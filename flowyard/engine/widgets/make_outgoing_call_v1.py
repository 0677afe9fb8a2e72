"""Make Outgoing Call, legacy (``make-outgoing-call-v1``): the v2 widget's behaviour under the
older event names.

Same properties and call as ``make-outgoing-call-v2``; two more events: a call answered by
a machine (``AnsweredBy`` ``machine_*``/``fax``, with answering-machine detection on) takes
``answeredByMachine``, and a call that was already over when the flow heard of it
(``CallStatus=completed``) takes ``hangup``.
"""

from __future__ import annotations

from ..io import CallResult
from ._voice import callback
from .base import Next, Outcome, WidgetRun, register
from .make_outgoing_call_v2 import MakeOutgoingCallV2


def _by_machine(answered_by: str) -> bool:
    return answered_by.startswith("machine") or answered_by == "fax"


@register
class MakeOutgoingCallV1(MakeOutgoingCallV2):
    type = "make-outgoing-call-v1"

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        outcome = super().on_result(run, result)
        cb = callback(result)
        if cb is None or not isinstance(outcome, Next):
            return outcome
        params = cb.params
        if params.get("CallStatus") == "completed":
            return Next("hangup", outcome.outputs)
        if outcome.event == "answered" and _by_machine(str(params.get("AnsweredBy") or "")):
            return Next("answeredByMachine", outcome.outputs)
        return outcome
