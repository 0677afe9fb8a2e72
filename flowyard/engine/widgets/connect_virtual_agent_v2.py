"""Connect Virtual Agent v2 (``connect-virtual-agent-v2``): ``<Connect><VirtualAgent>`` with the
connector's ``configurations`` as ``<Config>`` and ``parameters`` as ``<Parameter>``.

The agent's ``VirtualAgentStatus`` picks the event (``completed``, ``live-agent-handoff``,
``paused``, ``failed``; an error code means ``failed``), ``hangup`` when the caller hung up,
``timeout`` when ``timeout`` seconds pass before the call comes back (the host then pulls the
call back to the flow). Only the ``voice`` channel runs here: the ``conversations`` channel
needs Twilio Conversations, which Flowyard does not host, so it takes ``failed``.
``session_behavior`` and ``resume_session_identification_method`` steer sessions Studio keeps
with the agent provider; Flowyard keeps none, so they are accepted and not used.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from ..io import CallResult
from ._voice import callback, hung_up, no_call, outputs, timer, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, key_values, register

ACTION = "completed"
_STATUSES = {
    "completed": "completed",
    "live-agent-handoff": "live-agent-handoff",
    "paused": "paused",
    "failed": "failed",
    "error": "failed",
    "hangup": "hangup",
}


def _configurations(run: WidgetRun, value: Any) -> dict[str, Any]:
    """``configurations`` as a ``{key, value}`` list, an object, or JSON text of either."""
    if isinstance(value, str):
        text = run.render(value).strip()
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            return {}
    if isinstance(value, Mapping):
        return {str(k): run.render(v) if isinstance(v, str) else v for k, v in value.items()}
    return key_values(run, value)


def _as_attribute(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


@register
class ConnectVirtualAgentV2(Widget):
    type = "connect-virtual-agent-v2"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        channel = run.prop("channel").strip().lower() or "voice"
        if channel != "voice":
            message = f"channel {channel!r} is not supported: Flowyard connects calls only"
            return Next("failed", {}, error=run.error("unsupported_channel", message))
        connector = run.prop("connector_name").strip()
        if not connector:
            return Next("failed", {}, error=run.error("missing_connector", "connector_name"))
        props = run.props
        children = [
            verb("config", name=key, value=_as_attribute(value))
            for key, value in _configurations(run, props.get("configurations")).items()
        ]
        children += [
            verb("parameter", name=key, value=_as_attribute(value))
            for key, value in key_values(run, props.get("parameters")).items()
        ]
        agent = verb("virtual_agent", connector_name=connector, children=children)
        verbs = [verb("connect", action=ACTION, children=[agent])]
        return twiml(verbs, [ACTION], **timer(run, run.number("timeout")))

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        if cb.event == "timeout":
            return Next("timeout", {})
        params = dict(cb.params)
        status = str(params.get("VirtualAgentStatus") or "").strip().lower()
        event = _STATUSES.get(status, "completed")
        if params.get("VirtualAgentErrorCode") or params.get("VirtualAgentError"):
            event = "failed"
        if hung_up(params):
            event = "hangup"
        data = params.get("VirtualAgentProviderData")
        if isinstance(data, str) and data.strip():
            # Exposed as an object, so ``widgets.<name>.VirtualAgentProviderData.x`` works.
            with contextlib.suppress(ValueError):
                params["VirtualAgentProviderData"] = json.loads(data)
        return Next(event, outputs(params, event))
