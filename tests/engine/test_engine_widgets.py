"""Each messaging and logic widget: its request, outputs and events; triggers and context."""

from __future__ import annotations

import json

import pytest

from flowyard.engine import CallResult, Flow, Trigger, resume, start
from flowyard.engine.testing import VirtualEnvironment
from flowyard.testing.session import Session, Stubs
from tests.flows import flow, go, match, state

FLOW_SID = "FW" + "b" * 32
CONTACT, NUMBER = "+15550001111", "+15559990000"


def session(*states, respond=None, **wiring) -> Session:
    definition = flow(*states, **(wiring or {"rest": states[0]["name"]}))
    env = VirtualEnvironment()
    return Session(
        Flow.from_definition(definition, flow_sid=FLOW_SID, revision=1),
        env,
        Stubs(env.clock, respond=respond),
    )


def send(name, next_=None, **props):
    props.setdefault("body", "hi")
    return state(name, "send-message", [go("sent", next_), go("failed")], **props)


# -- trigger and context ----------------------------------------------------------------------


def test_rest_trigger_builds_studio_context():
    s = session(state("v", "set-variables", [go("next")], variables=[]))
    sprint = s.rest(CONTACT, NUMBER, name="Ann", items=[1, 2])
    ctx = s.context
    assert ctx["flow"]["sid"] == sprint.state.execution_sid
    assert ctx["flow"]["sid"].startswith("FN") and len(ctx["flow"]["sid"]) == 34
    assert ctx["flow"]["flow_sid"] == FLOW_SID
    assert ctx["flow"]["channel"] == {"address": NUMBER}
    assert ctx["flow"]["data"] == {"name": "Ann", "items": [1, 2]}
    assert ctx["contact"] == {"channel": {"address": CONTACT}}
    assert ctx["trigger"] == {
        "request": {"to": CONTACT, "from": NUMBER, "parameters": {"name": "Ann", "items": [1, 2]}}
    }
    assert ctx["widgets"] == {"v": {}}
    assert "variables" not in ctx["flow"]  # only once Set Variables ran with keys
    first = s.steps[0]
    assert (first.transitioned_from, first.name, first.transitioned_to) == (
        "Trigger",
        "incomingRequest",
        "v",
    )
    assert first.widget_type == "trigger" and first.patch == {}
    assert first.sid.startswith("FT") and first.parent_step_sid is None
    assert first.date == s.env.clock.now()


def test_rest_parameters_may_arrive_as_a_json_string():
    s = session(state("v", "set-variables", [go("next")], variables=[]))
    s.start("incomingRequest", {"to": CONTACT, "from": NUMBER, "parameters": '{"a": {"b": 1}}'})
    assert s.context["flow"]["data"] == {"a": {"b": 1}}


def test_inbound_message_trigger_builds_studio_context():
    s = session(send("echo", body="You said {{trigger.message.Body}}"), message="echo")
    s.text("hello", CONTACT, NUMBER, ChannelAttributes='{"from": "web"}')
    ctx = s.context
    assert ctx["contact"]["channel"]["address"] == CONTACT
    assert ctx["flow"]["channel"]["address"] == NUMBER
    assert "data" not in ctx["flow"]
    assert ctx["trigger"]["message"]["Body"] == "hello"
    assert ctx["trigger"]["message"]["ChannelAttributes"] == {"from": "web"}
    assert s.stubs.messages[0]["body"] == "You said hello"
    assert s.path() == [("Trigger", "incomingMessage", "echo"), ("echo", "sent", "Ended")]


def test_unwired_trigger_event_ends_at_once():
    s = session(send("x"), rest="x")
    s.text("hello")
    assert s.path() == [("Trigger", "incomingMessage", "Ended")]
    assert s.state.status == "ended" and s.state.ended_reason == "FLOW_END"
    assert s.errors == []


def test_trigger_only_flow_and_missing_trigger():
    only = Flow.from_definition(
        {
            "initial_state": "Trigger",
            "states": [{"name": "Trigger", "type": "trigger", "transitions": [], "properties": {}}],
        },
        flow_sid=FLOW_SID,
        revision=1,
    )
    sprint = start(
        only, Trigger("incomingRequest", {"to": CONTACT, "from": NUMBER}), VirtualEnvironment()
    )
    assert [s.transitioned_to for s in sprint.steps] == ["Ended"] and sprint.ended
    headless = Flow.from_definition(
        {"states": [{"name": "w", "type": "send-message"}]}, flow_sid=FLOW_SID, revision=1
    )
    sprint = start(headless, Trigger("incomingRequest", {}), VirtualEnvironment())
    assert sprint.ended and sprint.errors[0].kind == "no_trigger" and sprint.errors[0].fatal


def test_a_transition_into_the_trigger_ends_the_execution():
    s = session(state("v", "set-variables", [go("next", "Trigger")], variables=[]))
    s.rest()
    assert s.state.status == "ended"
    assert s.errors[-1].kind == "invalid_transition" and s.errors[-1].fatal


def test_dangling_next_ends_with_a_step_to_ended():
    s = session(state("v", "set-variables", [go("next", "SaveToAirtable")], variables=[]))
    s.rest()
    assert s.path()[-1] == ("v", "next", "Ended")
    assert s.errors[0].kind == "dangling_transition" and not s.errors[0].fatal


def test_unknown_widgets_fail_cleanly():
    for widget_type in ("no-such-widget",):
        s = session(
            state("v", "set-variables", [go("next", "w")], variables=[]),
            state("w", widget_type, [go("audioComplete")]),
        )
        s.rest()
        assert s.state.status == "ended" and s.state.ended_reason == "ERROR"
        (error,) = s.errors
        assert error.kind == "unsupported_widget" and error.fatal and error.widget == "w"
        assert widget_type in error.message
        assert s.path() == [("Trigger", "incomingRequest", "v"), ("v", "next", "w")]


# -- split-based-on and set-variables ---------------------------------------------------------


def test_split_match_and_no_match():
    split = state(
        "s",
        "split-based-on",
        [
            go("noMatch", "no"),
            match("yes", "equal_to", "yes", "{{flow.data.answer}}"),
        ],
        input="{{flow.data.answer}}",
    )
    yes = state("yes", "set-variables", [go("next")], variables=[{"key": "r", "value": "y"}])
    no = state("no", "set-variables", [go("next")], variables=[{"key": "r", "value": "n"}])
    s = session(split, yes, no)
    s.rest(answer=" YES ")
    assert s.path()[1] == ("s", "match", "yes")
    assert s.context["widgets"]["s"] == {}
    s = session(split, yes, no)
    s.rest(answer="maybe")
    assert s.path()[1] == ("s", "noMatch", "no")


def test_split_liquid_error_ends_the_execution_with_81018():
    split = state("s", "split-based-on", [go("noMatch", "x")], input="{% if %}")
    s = session(split, send("x"))
    s.rest()
    assert s.state.status == "ended" and s.state.ended_reason == "ERROR"
    assert s.errors[0].code == 81018 and s.errors[0].kind == "liquid" and s.errors[0].fatal


def test_set_variables_strings_json_and_pre_step_evaluation():
    setter = state(
        "v",
        "set-variables",
        [go("next", "w")],
        variables=[
            {"key": "count", "value": "{{flow.data.n | plus: 1}}"},
            {"key": "seen", "value": "{{flow.variables.count}}"},  # the pre-step value: empty
            {"key": "obj", "value": '{"a": [1, 2]}', "parse_as_json": True},
            {"key": "obj2", "value": "{{flow.data.items | to_json}}", "type": "json"},
            {"key": "raw", "value": '{"a": 1}'},
            {"key": "bad", "value": "{not json", "type": "json"},
        ],
    )
    after = state(
        "w",
        "set-variables",
        [go("next")],
        variables=[
            {"key": "count", "value": "{{flow.variables.count | plus: 1}}"},
            {"key": "first", "value": "{{flow.variables.obj.a[0]}}"},
        ],
    )
    s = session(setter, after)
    s.rest(n=1, items=[{"k": "v"}])
    variables = s.context["flow"]["variables"]
    assert variables["seen"] == ""
    assert variables["obj"] == {"a": [1, 2]} and variables["obj2"] == [{"k": "v"}]
    assert variables["raw"] == '{"a": 1}' and variables["bad"] == "{not json"
    assert variables["count"] == "3" and variables["first"] == "1"
    assert s.context["widgets"]["v"]["count"] == "2"  # the widget keeps its own values
    assert s.context["widgets"]["w"] == {"count": "3", "first": "1"}


# -- send-message -------------------------------------------------------------------------------


def test_send_message_request_and_outputs():
    s = session(
        send("m", body="Hi {{flow.data.name}}", media_url="https://x/{{flow.data.name}}.png")
    )
    s.rest(CONTACT, NUMBER, name="Ann")
    (request,) = s.stubs.messages
    assert request == {
        "to": CONTACT,
        "from": NUMBER,
        "body": "Hi Ann",
        "media_urls": ["https://x/Ann.png"],
    }
    outbound = s.context["widgets"]["m"]["outbound"]
    assert outbound["Body"] == "Hi Ann" and outbound["Sid"].startswith("SM")
    assert s.path()[-1] == ("m", "sent", "Ended")


def test_send_message_explicit_addresses_and_chat_passthrough():
    s = session(
        send(
            "m",
            to="{{flow.data.to}}",
            **{"from": "MG" + "1" * 32},
            service="{{trigger.message.InstanceSid}}",
            attributes='{"a": 1}',
        )
    )
    s.rest(to="+15551112222")
    request = s.stubs.messages[0]
    assert request["to"] == "+15551112222" and request["from"] == "MG" + "1" * 32
    assert request["service"] == "" and request["attributes"] == '{"a": 1}'
    assert s.context["widgets"]["m"]["outbound"]["Status"] == "accepted"


def test_send_message_failure_with_and_without_a_resource():
    s = session(send("m", None))
    s.stubs.fail_messages = "21211 invalid To"
    s.rest()
    assert s.path()[-1] == ("m", "failed", "Ended")
    assert s.context["widgets"]["m"] == {}
    assert s.errors[0].code == 81011 and "21211" in s.errors[0].message
    sprint = start(s.flow, Trigger("incomingRequest", {"to": CONTACT, "from": NUMBER}), s.env)
    done = resume(
        s.flow,
        sprint.state,
        CallResult(False, {"Sid": "SMx", "ErrorCode": 30007}, "filtered"),
        s.env,
    )
    assert done.state.context["widgets"]["m"] == {"outbound": {"Sid": "SMx", "ErrorCode": 30007}}


def test_send_message_template_error_takes_failed():
    s = session(send("m", body="{{ broken"))
    s.rest()
    assert s.path()[-1] == ("m", "failed", "Ended")
    assert s.errors[0].code == 81018 and not s.errors[0].fatal
    assert s.stubs.calls == []


# -- make-http-request and run-function -------------------------------------------------------


def http(name, **props):
    props.setdefault("method", "GET")
    props.setdefault("url", "https://api.example.com/x")
    props.setdefault("content_type", "application/x-www-form-urlencoded;charset=utf-8")
    return state(name, "make-http-request", [go("success"), go("failed")], **props)


def params(**values):
    return [{"key": k, "value": v} for k, v in values.items()]


def test_http_get_sends_parameters_as_query():
    s = session(
        http(
            "h",
            url="https://api.example.com/{{flow.data.p}}?z=1",
            parameters=params(who="{{flow.data.who}}"),
        )
    )
    s.rest(p="path", who="ann")
    request = s.stubs.calls[0].request
    assert request["method"] == "GET" and request["url"] == "https://api.example.com/path?z=1"
    assert request["query"] == [["who", "ann"]] and request["form"] is None
    assert request["timeout"] == 10 and request["max_bytes"] == 65536
    assert s.context["widgets"]["h"] == {
        "status_code": 200,
        "content_type": "application/json",
        "body": "{}",
        "parsed": {},
    }
    assert s.path()[-1] == ("h", "success", "Ended")


def test_http_post_form_and_json():
    s = session(http("h", method="POST", parameters=params(a="1", b="{{flow.data.b}}")))
    s.rest(b="two")
    request = s.stubs.calls[0].request
    assert request["form"] == [["a", "1"], ["b", "two"]] and request["content"] is None
    s = session(
        http(
            "h",
            method="POST",
            content_type="application/json;charset=utf-8",
            body='{"name": "{{flow.data.name}}"}',
            add_twilio_auth=True,
        )
    )
    s.rest(name="Ann")
    request = s.stubs.calls[0].request
    assert json.loads(request["content"]) == {"name": "Ann"}
    assert request["content_type"] == "application/json;charset=utf-8" and request["twilio_auth"]


@pytest.mark.parametrize(
    ("status", "body", "content_type", "event", "outputs"),
    [
        (
            200,
            {"a": 1},
            "application/json; charset=utf-8",
            "success",
            {"parsed": {"a": 1}, "body": '{"a": 1}'},
        ),
        (200, [1, 2], "application/json", "success", {"body": "[1, 2]"}),  # arrays not parsed
        (200, "", "text/plain", "success", {"body": ""}),
        (204, "", "", "success", {"body": ""}),
        (200, "<x/>", "application/xml", "success", {"body": "<x/>"}),
        (410, {"success": False}, "application/json", "failed", {"parsed": {"success": False}}),
        (500, "oops", "text/plain", "failed", {"body": "oops"}),
        (302, "", "text/html", "failed", {}),
    ],
)
def test_http_response_outputs(status, body, content_type, event, outputs):
    s = session(http("h"), respond=lambda call: (status, body, content_type))
    s.rest()
    entry = s.context["widgets"]["h"]
    assert entry["status_code"] == status and entry["content_type"] == content_type
    assert "parsed" not in entry or "parsed" in outputs
    for key, value in outputs.items():
        assert entry[key] == value
    assert s.path()[-1] == ("h", event, "Ended")


def test_http_transport_failure_oversize_and_bad_url():
    s = session(http("h"))
    sprint = start(s.flow, Trigger("incomingRequest", {}), s.env)
    done = resume(s.flow, sprint.state, CallResult(ok=False, error="timed out"), s.env)
    assert done.steps[-1].name == "failed" and done.state.context["widgets"]["h"] == {}
    big = session(http("h"), respond=lambda call: (200, "x" * 70000, "text/plain"))
    big.rest()
    assert big.path()[-1] == ("h", "failed", "Ended") and big.context["widgets"]["h"] == {}
    bad = session(http("h", url="FILL_WITH_CUSTOM_CALLBACK_URL"))
    bad.rest()
    assert bad.path()[-1] == ("h", "failed", "Ended") and bad.stubs.calls == []
    assert bad.errors[0].code == 81014


def test_run_function_events_request_and_headers():
    fn = state(
        "f",
        "run-function",
        [go("success", "ok"), go("fail", "ko")],
        url="https://svc-1234.twil.io/fn",
        parameters=params(x="{{flow.data.x}}"),
        service_sid="ZS1",
        function_sid="ZH1",
    )
    ok = state("ok", "set-variables", [go("next")], variables=[])
    ko = state("ko", "set-variables", [go("next")], variables=[])
    s = session(fn, ok, ko, respond=lambda call: (200, {"answer": 42}, "application/json"))
    s.rest(x="7")
    call = s.stubs.calls[0]
    assert call.kind == "function" and call.request["method"] == "POST"
    assert call.request["form"] == [["x", "7"]]
    assert s.context["widgets"]["f"]["parsed"] == {"answer": 42}
    assert s.path()[1] == ("f", "success", "ok")
    s = session(fn, ok, ko, respond=lambda call: (500, "boom", "text/plain"))
    s.rest()
    assert s.path()[1] == ("f", "fail", "ko") and s.errors[0].code == 81010
    sprint = start(s.flow, Trigger("incomingRequest", {}), s.env)
    done = resume(
        s.flow,
        sprint.state,
        CallResult(
            True,
            {
                "status_code": 200,
                "content_type": "application/json",
                "body": "{}",
                "headers": {"X-Twilio-Function-Concurrency": "3", "Server": "x"},
            },
        ),
        s.env,
    )
    assert done.state.context["widgets"]["f"]["headers"] == {"x-twilio-function-concurrency": "3"}


# -- send-to-flex and send-to-auto-pilot -------------------------------------------------------


def flex(**props):
    props.setdefault("workflow", "WW1")
    props.setdefault("channel", "TC1")
    return state(
        "flex",
        "send-to-flex",
        [go("callComplete"), go("failedToEnqueue"), go("callFailure")],
        **props,
    )


def test_send_to_flex_creates_a_task():
    s = session(
        flex(
            attributes='{"name": "{{trigger.message.From}}", "type": "sms"}',
            priority="5",
            timeout="120",
        ),
        message="flex",
    )
    s.text("help", CONTACT)
    call = s.stubs.calls[0]
    assert call.kind == "task"
    assert call.request == {
        "workflow_sid": "WW1",
        "channel": "TC1",
        "attributes": f'{{"name":"{CONTACT}","type":"sms"}}',
        "priority": 5,
        "timeout": 120,
    }
    assert s.path()[-1] == ("flex", "callComplete", "Ended")
    assert s.context["widgets"]["flex"]["sid"].startswith("WT")


def test_send_to_flex_failures():
    s = session(flex(attributes="{not json"))
    s.rest()
    assert s.path()[-1] == ("flex", "failedToEnqueue", "Ended") and s.stubs.calls == []
    for result, event in (
        (CallResult(False, {}, "refused"), "failedToEnqueue"),
        (CallResult(False, None, "network"), "callFailure"),
    ):
        s = session(flex())
        sprint = start(s.flow, Trigger("incomingRequest", {}), s.env)
        assert sprint.pending.kind == "task"
        done = resume(s.flow, sprint.state, result, s.env)
        assert done.steps[-1].name == event and done.errors


def test_send_to_auto_pilot_always_takes_failure():
    bot = state(
        "bot",
        "send-to-auto-pilot",
        [go("sessionEnded"), go("failure", "after"), go("timeout")],
        autopilot_assistant_sid="UA1",
        body="{{trigger.message.Body}}",
        timeout=14400,
    )
    after = send("after")
    s = session(bot, after, message="bot")
    s.text("hi")
    assert s.path()[:2] == [("Trigger", "incomingMessage", "bot"), ("bot", "failure", "after")]
    assert s.errors[0].kind == "retired_widget" and not s.errors[0].fatal
    assert s.context["widgets"]["bot"] == {}
