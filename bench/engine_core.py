"""Steps per second of the pure engine on a 10-widget flow, one core, no I/O.

Each execution is REST-triggered and walks ten widgets (Set Variables, splits, a Send
Message and a Make HTTP Request whose service calls are answered in-process), i.e. eleven
steps including ``Trigger --incomingRequest-->``. The figure counts steps, and includes the
service-call round trips through ``resume``.

    python bench/engine_core.py [--seconds S] [--profile]

Target: >= 20,000 steps/s.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowyard.engine import CallResult, Flow, Trigger, run_until_wait, start
from flowyard.engine.testing import VirtualEnvironment

TARGET = 20_000


def _state(name, type_, transitions, **properties):
    return {"name": name, "type": type_, "transitions": transitions, "properties": properties}


def _match(next_, operator, value, argument):
    return {
        "event": "match",
        "next": next_,
        "conditions": [
            {"friendly_name": "c", "arguments": [argument], "type": operator, "value": value}
        ],
    }


PARAMS = [{"key": "plan", "value": "{{flow.data.plan}}"}]
DEFINITION = {
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        _state("Trigger", "trigger", [{"event": "incomingRequest", "next": "init"}]),
        _state(
            "init",
            "set-variables",
            [{"event": "next", "next": "route"}],
            variables=[
                {"key": "count", "value": "0"},
                {"key": "name", "value": "{{flow.data.name}}"},
                {"key": "plan", "value": "{{flow.data.plan}}"},
            ],
        ),
        _state(
            "route",
            "split-based-on",
            [
                {"event": "noMatch", "next": "basic"},
                _match("premium", "equal_to", "gold", "{{flow.data.plan}}"),
            ],
            input="{{flow.data.plan}}",
        ),
        _state(
            "premium",
            "set-variables",
            [{"event": "next", "next": "check"}],
            variables=[
                {"key": "count", "value": "{{flow.variables.count | plus: 1}}"},
                {"key": "tier", "value": "Gold member {{flow.variables.name}}"},
            ],
        ),
        _state(
            "basic",
            "set-variables",
            [{"event": "next", "next": "check"}],
            variables=[{"key": "tier", "value": "basic"}],
        ),
        _state(
            "check",
            "split-based-on",
            [
                {"event": "noMatch", "next": "lookup"},
                _match("lookup", "matches_any_of", "ann, bob, cy", "{{flow.variables.name}}"),
            ],
            input="{{flow.variables.name}}",
        ),
        _state(
            "lookup",
            "make-http-request",
            [
                {"event": "success", "next": "found"},
                {"event": "failed", "next": "found"},
            ],
            method="GET",
            url="https://api.example.com/users/{{flow.data.name}}",
            content_type="application/json",
            parameters=PARAMS,
        ),
        _state(
            "found",
            "split-based-on",
            [
                {"event": "noMatch", "next": "note"},
                _match("note", "greater_than", "10", "{{widgets.lookup.parsed.score}}"),
            ],
            input="{{widgets.lookup.parsed.score}}",
        ),
        _state(
            "note",
            "set-variables",
            [{"event": "next", "next": "tell"}],
            variables=[
                {"key": "score", "value": "{{widgets.lookup.parsed.score}}"},
            ],
        ),
        _state(
            "tell",
            "send-message",
            [{"event": "sent", "next": "done"}, {"event": "failed"}],
            body="Hi {{flow.variables.name}}, you are {{flow.variables.tier}} "
            "with {{flow.variables.score}} points",
            to="{{contact.channel.address}}",
        ),
        _state(
            "done",
            "set-variables",
            [{"event": "next", "next": "audit"}],
            variables=[{"key": "status", "value": "told"}],
        ),
        _state(
            "audit",
            "split-based-on",
            [
                {"event": "noMatch"},
                _match("", "is_not_blank", "Is Not Blank", "{{widgets.tell.outbound.Sid}}"),
            ],
            input="{{widgets.tell.outbound.Sid}}",
        ),
    ],
}
# Widgets on the path taken (``basic`` is the branch not taken).
WIDGETS = 10

HTTP = CallResult(
    True,
    {
        "status_code": 200,
        "content_type": "application/json",
        "body": '{"score": 42, "id": "u1"}',
        "headers": {},
    },
)
MESSAGE = CallResult(True, {"Sid": "SM" + "0" * 32, "Status": "queued", "Body": "x"})
SERVICES = {"http": lambda call: HTTP, "message": lambda call: MESSAGE}


def run_once(flow: Flow, env: VirtualEnvironment, trigger: Trigger) -> int:
    sprint = run_until_wait(flow, start(flow, trigger, env), env, SERVICES)
    assert sprint.ended and not sprint.errors, sprint.errors
    return len(sprint.steps)


def measure(seconds: float) -> tuple[float, int]:
    flow = Flow.from_definition(DEFINITION, flow_sid="FW" + "0" * 32, revision=1)
    env = VirtualEnvironment()
    trigger = Trigger(
        "incomingRequest",
        {
            "to": "+15550001111",
            "from": "+15559990000",
            "parameters": {"name": "ann", "plan": "gold"},
        },
    )
    assert run_once(flow, env, trigger) == WIDGETS + 1
    for _ in range(200):  # warm caches
        run_once(flow, env, trigger)
    steps, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            steps += run_once(flow, env, trigger)
    return steps / elapsed, steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(measure, args.seconds)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    rate, steps = measure(args.seconds)
    verdict = "OK" if rate >= TARGET else "BELOW TARGET"
    print(
        f"pure engine, {WIDGETS}-widget flow: {rate:,.0f} steps/s "
        f"({steps:,} steps, {rate / (WIDGETS + 1):,.0f} executions/s) "
        f"target {TARGET:,} steps/s: {verdict}"
    )
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
