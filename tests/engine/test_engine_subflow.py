"""Run Subflow: the child runs inside the parent execution, with its own context."""

from __future__ import annotations

from flowyard.engine import Flow, Trigger, apply_patch, start
from flowyard.engine.testing import VirtualEnvironment
from flowyard.testing.session import Session
from tests.flows import flow, go, state

PARENT_SID, CHILD_SID, GRANDCHILD_SID = "FW" + "1" * 32, "FW" + "2" * 32, "FW" + "3" * 32

CHILD = flow(
    state(
        "remember",
        "set-variables",
        [go("next", "ask")],
        variables=[
            {"key": "answer", "value": "{{trigger.parent.parameters.q}}!"},
            {"key": "cfg", "value": "{{trigger.parent.parameters.cfg.level}}"},
        ],
    ),
    state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage", "got"), go("timeout")],
        body="Child asks {{trigger.parent.parameters.q}} of {{contact.channel.address}}",
    ),
    state(
        "got",
        "set-variables",
        [go("next")],
        variables=[{"key": "reply", "value": "{{widgets.ask.inbound.Body}}"}],
    ),
    parent="remember",
)

PARENT = flow(
    state(
        "before",
        "set-variables",
        [go("next", "sub")],
        variables=[{"key": "mine", "value": "parent"}],
    ),
    state(
        "sub",
        "run-subflow",
        [go("completed", "after"), go("failed", "oops")],
        flow_sid=CHILD_SID,
        flow_revision="LatestPublished",
        parameters=[
            {"key": "q", "value": "{{flow.data.q}}"},
            {"key": "cfg", "value": '{"level": 3}', "type": "json"},
        ],
    ),
    state(
        "after",
        "set-variables",
        [go("next")],
        variables=[
            {"key": "got", "value": "{{widgets.sub.answer}}/{{widgets.sub.reply}}"},
        ],
    ),
    state("oops", "set-variables", [go("next")], variables=[{"key": "failed", "value": "yes"}]),
    rest="before",
)


def parse(definition, sid, revision=1):
    return Flow.from_definition(definition, flow_sid=sid, revision=revision)


def session(child=CHILD, **subflows) -> Session:
    env = VirtualEnvironment(subflows={CHILD_SID: {1: parse(child, CHILD_SID)}, **subflows})
    return Session(parse(PARENT, PARENT_SID), env)


def test_subflow_runs_inside_the_execution_and_returns_its_variables():
    s = session()
    s.rest(q="42")
    # Parked inside the child: the live context is the child's own.
    assert s.state.frames and s.state.parked_on == "ask"
    child_ctx = s.context
    assert child_ctx["flow"]["flow_sid"] == CHILD_SID
    assert child_ctx["flow"]["sid"] == s.state.execution_sid
    assert child_ctx["trigger"]["parent"]["parameters"] == {"q": "42", "cfg": {"level": 3}}
    assert child_ctx["flow"]["variables"] == {"answer": "42!", "cfg": "3"}
    assert s.stubs.messages[0]["body"] == "Child asks 42 of +15550001111"
    s.reply("fine")
    assert s.state.status == "ended" and not s.state.frames
    ctx = s.context
    assert ctx["flow"]["flow_sid"] == PARENT_SID
    assert ctx["widgets"]["sub"] == {"answer": "42!", "cfg": "3", "reply": "fine"}
    # Child variables never leak into the parent's flow.variables.
    assert ctx["flow"]["variables"] == {"mine": "parent", "got": "42!/fine"}
    assert "remember" not in ctx["widgets"]


def test_subflow_steps_carry_the_parent_step_sid():
    s = session()
    s.rest(q="1")
    s.reply("ok")
    path = [
        (
            st.transitioned_from,
            st.name,
            st.transitioned_to,
            st.flow_sid[-1],
            st.parent_step_sid is not None,
        )
        for st in s.steps
    ]
    assert path == [
        ("Trigger", "incomingRequest", "before", "1", False),
        ("before", "next", "sub", "1", False),
        ("Trigger", "incomingParent", "remember", "2", True),
        ("remember", "next", "ask", "2", True),
        ("ask", "incomingMessage", "got", "2", True),
        ("got", "next", "Ended", "2", True),
        ("sub", "completed", "after", "1", False),
        ("after", "next", "Ended", "1", False),
    ]
    entering = s.steps[1].sid
    assert {st.parent_step_sid for st in s.steps[2:6]} == {entering}
    assert s.steps[2].widget_type == "trigger"


def test_patches_rebuild_child_and_parent_contexts():
    s = session()
    s.rest(q="7")
    s.reply("yes")
    context = s.base_context
    contexts = []
    for step in s.steps:
        context = apply_patch(context, step.patch)
        contexts.append(context)
    assert contexts[-1] == s.context
    # A child step's context is the child's: trigger.parent and its own widgets.
    assert contexts[3]["trigger"]["parent"]["parameters"]["q"] == "7"
    assert contexts[3]["widgets"] == {"remember": {"answer": "7!", "cfg": "3"}}
    assert contexts[6]["widgets"]["sub"]["reply"] == "yes"


def test_missing_child_takes_failed():
    env = VirtualEnvironment()
    s = Session(parse(PARENT, PARENT_SID), env)
    s.rest(q="1")
    assert s.path()[2] == ("sub", "failed", "oops")
    assert s.errors[0].code == 81024 and s.errors[0].kind == "subflow_missing"
    assert s.context["widgets"]["sub"] == {}


def test_a_subflow_calling_a_subflow_fails_inside_the_child():
    grandchild = flow(state("g", "set-variables", [go("next")], variables=[]), parent="g")
    nested = flow(
        state(
            "inner",
            "run-subflow",
            [go("completed", "done"), go("failed", "noted")],
            flow_sid=GRANDCHILD_SID,
            flow_revision="1",
        ),
        state("done", "set-variables", [go("next")], variables=[{"key": "r", "value": "ran"}]),
        state("noted", "set-variables", [go("next")], variables=[{"key": "r", "value": "refused"}]),
        parent="inner",
    )
    s = session(child=nested, **{GRANDCHILD_SID: parse(grandchild, GRANDCHILD_SID)})
    s.rest()
    assert ("inner", "failed", "noted") in s.path()
    assert s.errors[0].code == 81024 and s.errors[0].kind == "nested_subflow"
    assert s.context["widgets"]["sub"] == {"r": "refused"}
    assert s.path()[-2] == ("sub", "completed", "after")


def test_a_child_that_breaks_fails_its_run_subflow_widget():
    broken = flow(
        state("v", "set-variables", [go("next", "w")], variables=[]),
        state("w", "no-such-widget", [go("next")]),
        parent="v",
    )
    s = session(child=broken)
    s.rest()
    assert s.path()[-2:] == [("sub", "failed", "oops"), ("oops", "next", "Ended")]
    kinds = [e.kind for e in s.errors]
    assert kinds == ["unsupported_widget", "subflow_failed"]
    assert not any(e.fatal for e in s.errors)
    assert s.context["flow"]["flow_sid"] == PARENT_SID


def test_child_with_unwired_parent_trigger_completes_at_once():
    empty = flow(state("x", "set-variables", [go("next")], variables=[]))
    s = session(child=empty)
    s.rest()
    assert ("Trigger", "incomingParent", "Ended") in s.path()
    assert ("sub", "completed", "after") in s.path()
    assert s.context["widgets"]["sub"] == {}


def test_resume_inside_a_child_whose_revision_vanished():
    s = session()
    s.rest(q="1")
    s.env.subflows.clear()
    s.reply("late")
    assert s.path()[-2:] == [("sub", "failed", "oops"), ("oops", "next", "Ended")]
    assert s.context["flow"]["flow_sid"] == PARENT_SID


def test_subflow_started_directly_with_incoming_parent():
    child = parse(CHILD, CHILD_SID)
    sprint = start(
        child,
        Trigger("incomingParent", {"parameters": {"q": "x"}, "to": "+1"}),
        VirtualEnvironment(),
    )
    assert sprint.state.context["trigger"]["parent"]["parameters"] == {"q": "x"}
    assert sprint.state.context["contact"]["channel"]["address"] == "+1"
    assert sprint.pending.kind == "message"


def test_ending_inside_a_subflow_restores_the_parent_context():
    from flowyard.engine import end

    s = session()
    s.rest(q="1")
    ended = end(s.state, s.env)
    assert ended.state.status == "ended" and not ended.state.frames
    assert ended.state.context["flow"]["flow_sid"] == PARENT_SID
