"""Small flow definitions for tests, built from widget dicts."""

from __future__ import annotations

from typing import Any


def state(
    name: str, type_: str, transitions: list[dict[str, Any]] | None = None, **properties: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "transitions": transitions or [],
        "properties": {"offset": {"x": 0, "y": 0}, **properties},
    }


def go(event: str, next_: str | None = None, **extra: Any) -> dict[str, Any]:
    transition: dict[str, Any] = {"event": event, **extra}
    if next_:
        transition["next"] = next_
    return transition


def flow(
    *states: dict[str, Any],
    rest: str | None = None,
    message: str | None = None,
    parent: str | None = None,
    conversation: str | None = None,
) -> dict[str, Any]:
    """A definition whose trigger sends REST/message/subflow/conversation starts to the
    named widgets."""
    trigger = state(
        "Trigger",
        "trigger",
        [
            go("incomingMessage", message),
            go("incomingCall"),
            go("incomingConversationMessage", conversation),
            go("incomingRequest", rest),
            go("incomingParent", parent),
        ],
    )
    return {
        "description": "test flow",
        "initial_state": "Trigger",
        "states": [trigger, *states],
        "flags": {"allow_concurrent_calls": True},
    }


def match(next_: str, operator: str, value: str, argument: str) -> dict[str, Any]:
    return go(
        "match",
        next_,
        conditions=[
            {
                "friendly_name": f"If value {operator} {value}",
                "arguments": [argument],
                "type": operator,
                "value": value,
            }
        ],
    )
