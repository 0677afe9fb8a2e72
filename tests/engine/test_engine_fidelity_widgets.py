"""Issue 12 rows 2, 3, 12, 13, 14 in the engine: content templates, Run Function by SIDs,
widgets the engine could not run, TwiML Redirect without return, Gather speech FlowEvent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowyard.engine import CallResult, Flow, Trigger, resume, start
from flowyard.engine.testing import ACCOUNT_SID, VirtualEnvironment
from flowyard.engine.widgets.base import WIDGETS
from flowyard.testing import Response
from flowyard.testing.flows import load_flow
from flowyard.testing.mocks import Mocks
from flowyard.testing.phone import Input
from flowyard.testing.run import FlowRun
from flowyard.testing.session import Session, Stubs
from tests.conftest import shared_path
from tests.flows import flow, go, state

FLOW_SID = "FW" + "f" * 32
ZS, ZE, ZH = "ZS" + "1" * 32, "ZE" + "2" * 32, "ZH" + "3" * 32
TEMPLATE = "HX" + "4" * 32


def definition(*states: dict[str, Any], call: str | None = None, **wiring: Any) -> Flow:
    raw = flow(*states, **wiring)
    if call:
        raw["states"][0]["transitions"][1]["next"] = call
    return Flow.from_definition(raw, flow_sid=FLOW_SID, revision=1)


def session(*states: dict[str, Any], stubs: dict[str, Any] | None = None) -> Session:
    env = VirtualEnvironment()
    stub = Stubs(env.clock, **(stubs or {}))
    return Session(definition(*states, rest=states[0]["name"]), env, stub)


# -- row 2: content templates --------------------------------------------------------------


def template_message(**extra: Any) -> dict[str, Any]:
    return state(
        "greet",
        "send-message",
        [go("sent"), go("failed")],
        body="",
        to="{{contact.channel.address}}",
        message_type="content_template",
        content_sid=TEMPLATE,
        content_variables=[
            {"key": "{{1}}", "value": "{{flow.data.name}}"},
            {"key": "2", "value": "Tuesday"},
        ],
        **extra,
    )


def test_a_content_template_is_sent_with_its_sid_and_variables():
    s = session(template_message())
    s.rest(name="Ann")
    (request,) = s.stubs.messages
    assert request["content_sid"] == TEMPLATE
    assert request["content_variables"] == {"1": "Ann", "2": "Tuesday"}
    assert s.path()[-1] == ("greet", "sent", "Ended")
    # No template text here: the outbound Body is a readable stand-in, never "".
    assert s.context["widgets"]["greet"]["outbound"]["Body"] == f"[{TEMPLATE}] 1=Ann, 2=Tuesday"


def test_a_custom_message_ignores_a_leftover_content_sid():
    custom = template_message()
    custom["properties"] |= {"body": "plain", "message_type": "custom"}
    s = session(custom)
    s.rest(name="Ann")
    (request,) = s.stubs.messages
    assert "content_sid" not in request and request["body"] == "plain"


def test_flowyard_test_shows_the_template_message():
    run = FlowRun(definition(template_message(), rest="greet"))
    run.rest({"name": "Zoe"})
    assert run.sent[0].body == f"[{TEMPLATE}] 1=Zoe, 2=Tuesday"


# -- row 3: Run Function by SIDs ------------------------------------------------------------


def by_sids(name: str = "fn") -> dict[str, Any]:
    return state(
        name,
        "run-function",
        [go("success"), go("fail")],
        service_sid=ZS,
        environment_sid=ZE,
        function_sid=ZH,
        url="",
        parameters=[{"key": "sign", "value": "leo"}],
    )


def test_a_function_given_by_sids_is_called_at_its_mapped_url():
    s = session(by_sids(), stubs={"functions": {ZH: "https://astro-1234.twil.io/horoscope"}})
    s.rest()
    (call,) = s.stubs.calls
    assert call.request["url"] == "https://astro-1234.twil.io/horoscope"
    assert call.request["function_sid"] == ZH and call.request["form"] == [["sign", "leo"]]
    assert s.path()[-1] == ("fn", "success", "Ended")


def test_an_unmapped_function_takes_fail_not_81014():
    s = session(by_sids())
    s.rest()
    assert s.path()[-1] == ("fn", "fail", "Ended")
    (error,) = s.errors
    assert error.code == 81010 and ZH in error.message


def test_mocks_by_widget_name_and_by_sid_answer_functions_given_by_sids():
    flow_ = definition(by_sids(), rest="fn")
    run = FlowRun(flow_, mocks=Mocks().add("fn", Response(200, {"ok": 1})))
    run.rest()
    assert run.widget("fn")["parsed"] == {"ok": 1}
    run = FlowRun(flow_, mocks=Mocks(functions={ZH: {"status": 200, "body": {"ok": 2}}}))
    run.rest()
    assert run.widget("fn")["parsed"] == {"ok": 2}


CORPUS = {
    "Eclairemoy__pride-astrology__studio_flow.json": (
        "ask_sign",
        ["Leo", "yes"],
        {"get_horoscope": {"status": 200, "body": "Good day."}},
    ),
    "HlsRobot__twilio-apaleo__studio_flow.json": (None, [], {}),
}


@pytest.mark.parametrize(
    "name",
    ["Eclairemoy__pride-astrology__studio_flow.json", "HlsRobot__twilio-apaleo__studio_flow.json"],
)
def test_corpus_flows_with_functions_by_sids_run_with_a_functions_mapping(name):
    path = shared_path("flows", name)
    raw = json.loads(path.read_text())
    sids = [
        s["properties"]["function_sid"]
        for s in raw["states"]
        if s["type"] == "run-function" and not s["properties"].get("url")
    ]
    answer = {"status": 200, "body": {"list": "Aries", "token": "t", "id": "R1"}}
    loaded = load_flow(path, functions={sid: answer for sid in sids})
    run = loaded.message("hi")
    for reply in ("Leo", "1", "yes", "R1", "ok"):
        if run.waiting_for != "reply":
            break
        run.reply(reply)
    called = [e for e in run.errors if e.kind in ("function_failed", "invalid_url")]
    assert called == []
    assert run.mocks.unmocked == []
    ran = [s.transitioned_from for s in run.steps if s.widget_type == "run-function"]
    assert ran, "no Run Function widget ran"
    assert all(s.name == "success" for s in run.steps if s.widget_type == "run-function")


# -- row 12: widgets the engine could not run ------------------------------------------------


def test_an_unsupported_widget_takes_failed_with_84002(monkeypatch):
    monkeypatch.delitem(WIDGETS, "run-conversation-relay")
    s = session(
        state("relay", "run-conversation-relay", [go("success"), go("failed", "after")]),
        state("after", "set-variables", [go("next")], variables=[]),
    )
    s.rest()
    assert s.path()[-2:] == [("relay", "failed", "after"), ("after", "next", "Ended")]
    (error,) = s.errors
    assert error.kind == "unsupported_widget" and error.code == 84002 and not error.fatal
    assert s.state.ended_reason == "FLOW_END"


def relay() -> dict[str, Any]:
    return state(
        "relay",
        "run-conversation-relay",
        [go("success", "bye"), go("failed")],
        url="wss://ai.example.test/relay",
        welcome_greeting="Hi {{contact.channel.address}}",
        tts_provider="ElevenLabs",
        voice="UgBBYS2sOqTuMpoF3BR0",
        language="en-US",
        transcription_provider="Deepgram",
        speech_model="nova-2-general",
        dtmf_detection=True,
        interruptible="any",
        parameters=[{"key": "customer", "value": "{{contact.channel.address}}"}],
    )


def test_conversation_relay_connects_the_call_and_reads_the_session_end():
    flow_ = definition(
        relay(), state("bye", "say-play", [go("audioComplete")], say="Bye"), call="relay"
    )
    env = VirtualEnvironment()
    sprint = start(flow_, Trigger("incomingCall", {"From": "+15550001111"}), env)
    (connect,) = sprint.pending.request["verbs"]
    assert connect["verb"] == "connect" and connect["action"] == "success"
    (noun,) = connect["children"]
    assert noun["verb"] == "conversation_relay"
    assert noun["attrs"]["url"] == "wss://ai.example.test/relay"
    assert noun["attrs"]["welcome_greeting"] == "Hi +15550001111"
    assert noun["attrs"]["dtmf_detection"] == "true"
    assert noun["attrs"]["tts_provider"] == "ElevenLabs"
    assert noun["children"] == [
        {"verb": "parameter", "attrs": {"name": "customer", "value": "+15550001111"}}
    ]
    params = {"SessionId": "VX1", "SessionStatus": "ended", "HandoffData": '{"reason": "done"}'}
    ended = CallResult(True, {"callback": {"event": "success", "params": params}})
    after = resume(flow_, sprint.state, ended, env)
    assert [(s.transitioned_from, s.name) for s in after.steps] == [("relay", "success")]
    assert after.state.context["widgets"]["relay"]["HandoffData"] == {"reason": "done"}
    failed = {"callback": {"event": "success", "params": {"SessionStatus": "failed"}}}
    after = resume(flow_, sprint.state, CallResult(True, failed), env)
    assert after.steps[0].name == "failed"


def test_conversation_relay_with_a_bad_url_or_without_a_call_fails():
    s = session(relay())
    s.rest()
    assert s.path()[-1] == ("relay", "failed", "Ended")
    bad = relay()
    bad["properties"]["url"] = "https://not-a-socket.test"
    s = session(bad)
    s.rest()
    assert s.path()[-1] == ("relay", "failed", "Ended")


def test_make_outgoing_call_v1_runs_as_v2_with_its_own_events():
    call = state(
        "dial",
        "make-outgoing-call-v1",
        [go("answered"), go("answeredByMachine"), go("busy"), go("noAnswer"), go("failed")],
        detect_answering_machine=True,
    )
    run = FlowRun(definition(call, rest="dial"))
    run.rest()
    assert [c.kind for c in run.calls] == ["call", "answer"]
    assert run.path[-1] == "dial" and run.steps[-1].name == "answered"
    assert run.calls[0].request["machine_detection"] == "Enable"


# -- row 13: TwiML Redirect without return; messaging; 30-day expiry -------------------------


def redirect(timeout: str) -> dict[str, Any]:
    return state(
        "away",
        "add-twiml-redirect",
        [go("return", "back"), go("timeout"), go("fail", "failed")],
        url="https://app.example.test/twiml",
        timeout=timeout,
    )


def test_redirect_with_timeout_0_hands_the_call_over_and_ends():
    back = state("back", "say-play", [go("audioComplete")], say="welcome back")
    failed = state("failed", "set-variables", [go("next")], variables=[])
    run = FlowRun(definition(redirect("0"), back, failed, call="away"))
    run.call()
    assert run.status == "ended" and run.state.ended_reason == "ENDED"
    assert "[redirect https://app.example.test/twiml]" in run.heard
    assert run.path == ["Trigger", "away"]


RETURN_URL = f"https://webhooks.twilio.com/v1/Accounts/{ACCOUNT_SID}/Flows/{FLOW_SID}"
APP_TWIML = (
    "<Response><Message>Hi from the app</Message>"
    f"<Redirect>{RETURN_URL}?FlowEvent=return&amp;order=42</Redirect></Response>"
)


def sms_redirect(timeout: str, *answers: tuple[int, str]) -> Session:
    """A messaging execution entering the redirect; the app's URL answers ``answers`` in
    turn (the last one repeats)."""
    failed = state("failed", "set-variables", [go("next")], variables=[])
    back = state("back", "set-variables", [go("next")], variables=[])
    fetched: list[Any] = []

    def respond(call: Any) -> tuple[int, str, str]:
        fetched.append(call)
        status, body = answers[min(len(fetched), len(answers)) - 1]
        return status, body, "application/xml"

    env = VirtualEnvironment()
    stubs = Stubs(env.clock, respond=respond)
    s = Session(definition(redirect(timeout), back, failed, message="away"), env, stubs)
    s.fetched = fetched  # type: ignore[attr-defined]
    return s


def test_redirect_on_a_messaging_execution_carries_out_the_twiml_and_returns():
    s = sms_redirect("60", (200, APP_TWIML))
    s.text("hi")
    assert s.path()[-2:] == [("away", "return", "back"), ("back", "next", "Ended")]
    assert s.context["widgets"]["away"] == {"order": "42"}
    (sent,) = s.stubs.records
    assert sent[1]["body"] == "Hi from the app"
    assert sent[1]["to"] == "+15550001111" and sent[1]["from_"] == "+15559990000"
    (fetch,) = s.fetched  # type: ignore[attr-defined]
    assert fetch.request["method"] == "POST" and fetch.request["url"] == (
        "https://app.example.test/twiml"
    )
    form = dict(fetch.request["form"])
    assert form["Body"] == "hi" and form["From"] == "+15550001111"


def test_message_attributes_and_redirect_hops_are_followed():
    first = (
        '<Response><Message to="+15557770000" from="+15556660000">Psst</Message>'
        '<Redirect method="GET">/next</Redirect><Message>never</Message></Response>'
    )
    s = sms_redirect("60", (200, first), (200, APP_TWIML))
    s.text("hi")
    assert s.path()[1][:2] == ("away", "return")
    bodies = [(row["to"], row["from_"], row["body"]) for _, row in s.stubs.records]
    assert bodies == [
        ("+15557770000", "+15556660000", "Psst"),
        ("+15550001111", "+15559990000", "Hi from the app"),
    ]
    second = s.fetched[1].request  # type: ignore[attr-defined]
    assert second["method"] == "GET" and second["url"] == "https://app.example.test/next"


def test_redirect_timeout_0_on_messaging_ends_after_the_twiml():
    s = sms_redirect("0", (200, "<Response><Message>Bye</Message></Response>"))
    s.text("hi")
    assert s.state.status == "ended" and s.state.ended_reason == "ENDED"
    assert [p[0] for p in s.path()] == ["Trigger"]
    assert [row["body"] for _, row in s.stubs.records] == ["Bye"]


def test_redirect_on_messaging_without_return_waits_for_its_timeout():
    s = sms_redirect("60", (200, "<Response><Message>Later</Message></Response>"))
    s.text("hi")
    assert s.state.status == "active" and s.state.wait is not None
    s.reply("anything?")  # a message is not a return
    assert s.state.status == "active"
    s.timeout()
    assert s.path()[-1][:2] == ("away", "timeout")
    assert s.context["widgets"]["away"] == {}


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (500, APP_TWIML, 11200),
        (200, "not xml <", 12100),
        (200, "<Response><Say>voice only</Say></Response>", 12100),
        (200, '<!DOCTYPE r [<!ENTITY a "x">]><Response>&a;</Response>', 12100),
    ],
)
def test_redirect_on_messaging_fails_on_bad_answers(status, body, code):
    s = sms_redirect("60", (status, body))
    s.text("hi")
    assert s.path()[-2:] == [("away", "fail", "failed"), ("failed", "next", "Ended")]
    (error,) = [e for e in s.errors if e.widget == "away"]
    assert error.code == code
    assert s.stubs.records == []


def test_redirect_loops_are_bounded():
    loop = "<Response><Redirect>https://app.example.test/twiml</Redirect></Response>"
    s = sms_redirect("60", (200, loop))
    s.text("hi")
    assert s.path()[1][:2] == ("away", "fail")
    assert len(s.fetched) == 6  # type: ignore[attr-defined]


def test_flowyard_test_mocks_answer_the_redirect_fetch():
    failed = state("failed", "set-variables", [go("next")], variables=[])
    back = state("back", "set-variables", [go("next")], variables=[])
    mocks = Mocks().add("away", Response(200, APP_TWIML, "text/xml"))
    run = FlowRun(definition(redirect("60"), back, failed, message="away"), mocks=mocks)
    run.message("hi")
    assert run.path[-2:] == ["away", "back"]
    assert run.widget("away") == {"order": "42"}
    assert [m.body for m in run.sent] == ["Hi from the app"]


def test_testing_tools_expire_an_execution_waiting_on_a_call_at_30_days():
    gather = state("ask", "gather-input-on-call", [go("keypress"), go("timeout")], say="?")
    run = FlowRun(definition(redirect("0") | {"name": "x"}, gather, call="ask"))
    run.call()
    assert run.waiting_for == "gather"
    run.advance(29 * 24 * 3600)
    assert run.active
    run.advance(2 * 24 * 3600)
    assert run.status == "ended" and run.state.ended_reason == "EXPIRED"


# -- row 14: Gather speech FlowEvent ------------------------------------------------------------


def test_a_speech_result_is_stored_with_flowevent_timeout_as_studio_records_it():
    gather = state(
        "ask",
        "gather-input-on-call",
        [go("keypress"), go("speech", "said"), go("timeout")],
        say="Yes or no?",
        speech_timeout="auto",
    )
    said = state("said", "set-variables", [go("next")], variables=[])
    run = FlowRun(definition(gather, said, call="ask"))
    run.call()
    run._gather(Input("speech", "oui"))
    entry = run.widget("ask")
    assert entry["SpeechResult"] == "oui" and entry["FlowEvent"] == "timeout"
    assert run.steps[1].name == "speech" and run.path[-1] == "said"
