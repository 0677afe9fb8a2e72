"""Execution limits and endings: steps, same widget in a row, lifetime, explicit end, bugs."""

from __future__ import annotations

from datetime import timedelta

from flowyard.engine import CallResult, Flow, Timeout, Trigger, end, resume, run_until_wait, start
from flowyard.engine.testing import VirtualEnvironment
from flowyard.engine.widgets import WIDGETS
from flowyard.engine.widgets.base import Widget, register
from flowyard.testing.session import Session, Stubs
from tests.flows import flow, go, match, state

FLOW_SID = "FW" + "d" * 32


def parse(definition):
    return Flow.from_definition(definition, flow_sid=FLOW_SID, revision=1)


def counter_loop(limit_widgets=2):
    """Widgets a -> b -> a -> ... forever (no widget twice in a row)."""
    return flow(
        state(
            "a",
            "set-variables",
            [go("next", "b")],
            variables=[{"key": "n", "value": "{{flow.variables.n | plus: 1}}"}],
        ),
        state("b", "split-based-on", [go("noMatch", "a")], input="x"),
        rest="a",
    )


def test_step_limit_stops_the_execution_with_81000():
    s = Session(parse(counter_loop()))
    s.rest()
    assert len(s.steps) == 1000
    assert s.state.status == "ended" and s.state.ended_reason == "STEP_LIMIT"
    (error,) = s.errors
    assert error.code == 81000 and error.fatal
    assert s.state.step_count == 1000


def test_step_limit_is_configurable():
    s = Session(parse(counter_loop()), VirtualEnvironment(max_steps=25))
    s.rest()
    assert len(s.steps) == 25 and s.errors[0].code == 81000


def test_same_widget_ten_times_in_a_row_stops_with_81001():
    definition = flow(
        state("again", "split-based-on", [go("noMatch", "again")], input="x"),
        rest="again",
    )
    s = Session(parse(definition))
    s.rest()
    # Trigger -> again, then nine more runs of "again": the eleventh is refused.
    assert len(s.steps) == 10
    assert all(st.transitioned_to == "again" for st in s.steps)
    assert s.state.ended_reason == "SAME_WIDGET_LIMIT" and s.errors[0].code == 81001


def test_same_widget_count_resets_and_spans_resumes():
    definition = flow(
        state(
            "ask",
            "send-and-wait-for-reply",
            [go("incomingMessage", "ask"), go("timeout", "ask")],
            body="?",
        ),
        rest="ask",
    )
    s = Session(parse(definition), VirtualEnvironment(max_same_widget_in_a_row=3))
    s.rest()
    s.reply("1")
    s.timeout()
    assert s.state.status == "active" and s.state.consecutive_runs == 3
    s.reply("again")
    assert s.state.status == "ended" and s.errors[-1].code == 81001


def test_lifetime_expiry_is_a_deadline_and_a_resume_after_it_ends():
    definition = flow(
        state(
            "ask",
            "send-and-wait-for-reply",
            [go("timeout", "ask")],
            body="?",
            timeout=str(20 * 86400),
        ),
        rest="ask",
    )
    env = VirtualEnvironment()
    s = Session(parse(definition), env)
    started = env.clock.now()
    sprint = s.rest()
    assert sprint.wait.until == started.timestamp() + 20 * 86400
    assert s.state.expires_at == started.timestamp() + 30 * 86400
    sprint = s.timeout()  # day 20: loops back, the next deadline is capped by the expiry
    assert sprint.wait.until == s.state.expires_at
    env.clock.set(started + timedelta(days=30))
    sprint = s.resume(Timeout())
    assert sprint.state.status == "ended" and sprint.state.ended_reason == "EXPIRED"
    assert sprint.errors[0].kind == "expired" and sprint.steps == []


def test_explicit_end():
    definition = flow(
        state("ask", "send-and-wait-for-reply", [go("timeout")], body="?"), rest="ask"
    )
    s = Session(parse(definition))
    s.rest()
    before = s.state.to_json()
    sprint = end(s.state, s.env)
    assert sprint.state.status == "ended" and sprint.state.ended_reason == "ENDED"
    assert sprint.steps == [] and sprint.wait is None and sprint.state.parked_on is None
    assert s.state.to_json() == before  # the caller's state is untouched
    also = end(s.flow, s.state, s.env)  # the host's spelling
    assert also.state.status == "ended"
    again = end(sprint.state, s.env)
    assert again.state.ended_reason == "ENDED" and again.errors == []


class _Exploding(Widget):
    type = "test-exploding"

    def enter(self, run):
        raise RuntimeError("widget bug")


def test_a_widget_bug_never_escapes_the_engine():
    register(_Exploding)
    try:
        definition = flow(state("boom", "test-exploding", [go("next")]), rest="boom")
        sprint = start(parse(definition), Trigger("incomingRequest", {}), VirtualEnvironment())
        assert sprint.ended and sprint.errors[0].kind == "internal"
        assert "widget bug" in sprint.errors[0].message
    finally:
        WIDGETS.pop("test-exploding")


def test_run_until_wait_handles_missing_and_raising_services():
    definition = flow(
        state(
            "h",
            "make-http-request",
            [go("success"), go("failed", "m")],
            method="GET",
            url="https://x.example/",
            content_type="application/json",
        ),
        state("m", "send-message", [go("sent"), go("failed")], body="x"),
        rest="h",
    )
    env = VirtualEnvironment()
    first = start(parse(definition), Trigger("incomingRequest", {}), env)

    def explode(call):
        raise OSError("network down")

    done = run_until_wait(parse(definition), first, env, {"http": explode})
    assert [st.name for st in done.steps] == ["incomingRequest", "failed", "failed"]
    assert done.base_context == first.base_context and done.ended
    assert [e.kind for e in done.errors] == ["http_failed", "message_failed"]


def test_split_limits_and_branches_do_not_leak_state_between_runs():
    definition = flow(
        state(
            "s",
            "split-based-on",
            [go("noMatch"), match("x", "equal_to", "1", "{{a}}")],
            input="{{flow.data.a}}",
        ),
        state("x", "set-variables", [go("next")], variables=[]),
        rest="s",
    )
    parsed = parse(definition)
    env = VirtualEnvironment()
    stubs = Stubs(env.clock)
    one = run_until_wait(
        parsed,
        start(parsed, Trigger("incomingRequest", {"parameters": {"a": "1"}}), env),
        env,
        stubs.services(),
    )
    two = run_until_wait(
        parsed,
        start(parsed, Trigger("incomingRequest", {"parameters": {"a": "2"}}), env),
        env,
        stubs.services(),
    )
    assert [st.transitioned_to for st in one.steps] == ["s", "x", "Ended"]
    assert [st.transitioned_to for st in two.steps] == ["s", "Ended"]
    assert one.state.execution_sid != two.state.execution_sid
    assert resume(parsed, two.state, CallResult(True, {}), env).errors[0].kind == "not_active"
