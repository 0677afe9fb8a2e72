"""The execution context Studio builds (studio-runtime.md 4.2) and the step patches over it.

A step's ``patch`` holds only what the step changed:

* ``"context"``: a whole new context (entering or leaving a subflow swaps contexts);
* ``"widgets"``: ``{name: outputs}``, each replacing that widget's entry;
* ``"variables"``: ``{key: value}``, merged into ``flow.variables``;
* ``"channel"``: ``{key: value}``, merged into ``flow.channel`` (Start/Resume Conversation
  make the conversation the execution's channel).

``apply_patch`` applies them in that order, so for every execution
``base_context`` + patches of steps 1..n == the context after step n. The live
``ExecutionState.context`` may be ahead of the last step while a widget runs (Send & Wait
shows its ``outbound`` while it waits); the step that leaves the widget carries it.
"""

from __future__ import annotations

import json
from typing import Any

from . import conversation


def apply_patch(context: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A new context: ``context`` with ``patch`` applied; the input is never modified."""
    if "context" in patch:
        context = patch["context"]
    result = dict(context)
    apply_in_place(result, patch, replaced=True)
    return result


def apply_in_place(
    context: dict[str, Any], patch: dict[str, Any], *, replaced: bool = False
) -> None:
    """Apply ``patch`` to ``context`` itself, copying only the containers it touches.

    Nested dicts may be shared with older contexts, so they are copied before a write; the
    top-level dict is the caller's to modify (``replaced`` means a ``"context"`` key was
    already taken into account by the caller).
    """
    if not replaced and "context" in patch:
        context.clear()
        context.update(patch["context"])
    widgets = patch.get("widgets")
    if widgets:
        merged = dict(context.get("widgets") or {})
        merged.update(widgets)
        context["widgets"] = merged
    variables = patch.get("variables")
    if variables:
        flow = dict(context.get("flow") or {})
        merged_vars = dict(flow.get("variables") or {})
        merged_vars.update(variables)
        flow["variables"] = merged_vars
        context["flow"] = flow
    channel = patch.get("channel")
    if channel:
        flow = dict(context.get("flow") or {})
        flow["channel"] = {**(flow.get("channel") or {}), **channel}
        context["flow"] = flow


def _json_field(value: Any) -> Any:
    """Webhook params that Studio decodes (``ChannelAttributes``, ``AddOns``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parameters(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def trigger_context(
    event: str, payload: dict[str, Any], *, execution_sid: str, flow_sid: str
) -> dict[str, Any]:
    """The context before the first step, shaped like Studio's recordings (SARA-VCR)."""
    flow: dict[str, Any] = {"flow_sid": flow_sid, "sid": execution_sid}
    trigger: dict[str, Any]
    if event == "incomingRequest":
        parameters = _parameters(payload.get("parameters"))
        to, from_ = str(payload.get("to") or ""), str(payload.get("from") or "")
        trigger = {"request": {"to": to, "from": from_, "parameters": parameters}}
        flow["channel"] = {"address": from_}
        flow["data"] = parameters
        contact = to
    elif event == "incomingParent":
        # Run directly (a host testing a subflow): ``to``/``from`` address it like REST.
        parent = {k: v for k, v in payload.items() if k not in ("to", "from")}
        parent["parameters"] = _parameters(parent.get("parameters"))
        trigger = {"parent": parent}
        flow["channel"] = {"address": str(payload.get("from") or "")}
        contact = str(payload.get("to") or "")
    else:
        params = dict(payload)
        for key in ("ChannelAttributes", "AddOns"):
            if key in params:
                params[key] = _json_field(params[key])
        key = {
            "incomingMessage": "message",
            "incomingCall": "call",
            "incomingConversationMessage": "conversation",
        }.get(event, event)
        channel = str(params.get("To") or "")
        if event == "incomingConversationMessage":
            # The contact is the author; the flow speaks in the conversation itself.
            params = conversation.studio_params(params)
            channel = str(params.get("ConversationSid") or "")
        trigger = {key: params}
        contact = str(params.get("From") or params.get("Author") or "")
        flow["channel"] = {"address": channel}
    return {
        "flow": flow,
        "contact": {"channel": {"address": contact}},
        "trigger": trigger,
        "widgets": {},
    }


def subflow_context(
    parent: dict[str, Any],
    *,
    flow_sid: str,
    parameters: dict[str, Any],
    parent_flow_sid: str,
    parent_step_sid: str | None,
) -> dict[str, Any]:
    """The child's own context: same execution and contact, ``trigger.parent.parameters``."""
    parent_flow = parent.get("flow") or {}
    execution_sid = str(parent_flow.get("sid") or "")
    return {
        "flow": {
            "flow_sid": flow_sid,
            "sid": execution_sid,
            "channel": dict(parent_flow.get("channel") or {"address": ""}),
        },
        "contact": dict(parent.get("contact") or {"channel": {"address": ""}}),
        "trigger": {
            "parent": {
                "parameters": parameters,
                "step_sid": parent_step_sid,
                "execution_sid": execution_sid,
                "flow_sid": parent_flow_sid,
            }
        },
        "widgets": {},
    }
