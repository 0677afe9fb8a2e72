"""Say/Play and Gather Input On Call through a real server: TwiML, steps and context."""

from __future__ import annotations

from flowyard.testing.voice import SILENCE, Speech
from tests.flows import go, match, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, harness, query_of, twiml

MENU = call_flow(
    state(
        "hello",
        "say-play",
        [go("audioComplete", "menu")],
        say="Hello {{trigger.call.From}}",
        voice="Polly.Joanna",
        language="en-US",
        loop=2,
    ),
    state(
        "menu",
        "gather-input-on-call",
        [go("keypress", "route"), go("speech", "route"), go("timeout", "bye")],
        say="Press 1 or say sales",
        timeout=3,
        number_of_digits=1,
        finish_on_key="",
        speech_timeout="auto",
        gather_language="en-US",
        hints="sales, support",
        speech_model="phone_call",
        profanity_filter="true",
    ),
    state(
        "route",
        "split-based-on",
        [
            go("noMatch", "bye"),
            match("sales", "equal_to", "1", "{{widgets.menu.Digits}}"),
            match("sales", "equal_to", "sales", "{{widgets.menu.SpeechResult}}"),
        ],
        input="{{widgets.menu.Digits}}",
    ),
    state("sales", "say-play", [go("audioComplete")], play="https://example.com/sales.mp3"),
    state("bye", "say-play", [go("audioComplete")], digits="ww1234"),
)


def test_first_answer_is_say_with_a_redirect_back(server):
    with harness(server) as h:
        flow_sid = h.create(MENU)
        call = h.voice.call(flow_sid, CALLER, NUMBER, answers=["1"])
        first = twiml(call.exchanges[0].twiml)
        assert call.exchanges[0].status == 200
        say, redirect = list(first)
        assert say.tag == "Say" and say.text == f"Hello {CALLER}"
        assert say.attrib == {"voice": "Polly.Joanna", "language": "en-US", "loop": "2"}
        assert redirect.tag == "Redirect" and redirect.get("method") == "POST"
        query = query_of(redirect.text)
        assert query["FlowEvent"] == "audioComplete" and query["executionSid"].startswith("FN")

        gather = twiml(call.exchanges[1].twiml)
        (node, after) = list(gather)
        assert node.tag == "Gather"
        assert node.get("input") == "dtmf speech" and node.get("timeout") == "3"
        assert node.get("numDigits") == "1" and node.get("finishOnKey") == ""
        assert node.get("speechTimeout") == "auto" and node.get("hints") == "sales, support"
        assert node.get("language") == "en-US" and node.get("speechModel") == "phone_call"
        assert node[0].tag == "Say" and node[0].text == "Press 1 or say sales"
        assert query_of(after.text)["FlowEvent"] == "timeout"

        assert call.heard == [
            f"Hello {CALLER}",
            "Press 1 or say sales",
            "[play https://example.com/sales.mp3]",
        ]
        sid = call.execution_sid
        assert h.steps(flow_sid, sid) == [
            ("Trigger", "incomingCall", "hello"),
            ("hello", "audioComplete", "menu"),
            ("menu", "keypress", "route"),
            ("route", "match", "sales"),
            ("sales", "audioComplete", "Ended"),
        ]
        context = h.context(flow_sid, sid)
        menu = context["widgets"]["menu"]
        assert menu["Digits"] == "1" and menu["FlowEvent"] == "keypress"
        assert menu["CallSid"] == call.call_sid and menu["From"] == CALLER
        assert context["widgets"]["hello"]["FlowEvent"] == "audioComplete"
        assert context["trigger"]["call"]["CallStatus"] == "ringing"
        assert context["contact"]["channel"]["address"] == CALLER
        assert context["flow"]["channel"]["address"] == NUMBER
        assert h.execution(flow_sid, sid).status == "ended"
        # The callback that ended the flow is answered with a hang-up.
        assert [n.tag for n in call.last] == ["Hangup"]


def test_speech_and_timeout(server):
    with harness(server) as h:
        flow_sid = h.create(MENU)
        call = h.voice.call(flow_sid, CALLER, NUMBER, answers=[Speech("sales")])
        context = h.context(flow_sid, call.execution_sid)
        menu = context["widgets"]["menu"]
        assert menu["SpeechResult"] == "sales" and menu["FlowEvent"] == "timeout"
        assert menu["Confidence"] and menu["Language"] == "en-US"

        call = h.voice.call(flow_sid, "+15550002222", NUMBER, answers=[SILENCE])
        assert call.heard[-1] == "[digits ww1234]"
        steps = h.steps(flow_sid, call.execution_sid)
        assert ("menu", "timeout", "bye") in steps
        assert h.context(flow_sid, call.execution_sid)["widgets"]["menu"]["FlowEvent"] == "timeout"


def test_dtmf_only_when_speech_is_not_wired(server):
    definition = call_flow(
        state("menu", "gather-input-on-call", [go("keypress"), go("timeout")], say="Press"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER, answers=["5"])
        gather = twiml(call.exchanges[0].twiml)[0]
        assert gather.get("input") == "dtmf" and gather.get("speechTimeout") is None
        assert gather.get("timeout") == "5"
        # The flow ended on keypress: the action's answer hangs up.
        assert [n.tag for n in call.last] == ["Hangup"]
