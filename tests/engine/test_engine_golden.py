"""The pure engine against real Studio recordings (SaraAlert, SMS paths).

Each test drives the SaraAlert flow down a recorded path, answering service calls with the
recorded resources, and compares the execution context with the recording. The recorded
flow revision predates the corpus file by a little (it had no ``iterator`` variable and no
``messages_array`` loop), so those additions are set aside explicitly.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from flowyard.engine import (
    CallResult,
    DeliveryFailure,
    Flow,
    Reply,
    ServiceCall,
    Trigger,
    apply_patch,
    resume,
    run_until_wait,
    start,
)
from flowyard.engine.testing import VirtualEnvironment
from tests.conftest import shared_path

FLOW_SID = "<TWILLIO_STUDIO_FLOW>"


def recording(name: str) -> dict[str, Any]:
    data = json.loads(shared_path("golden", "saraalert", name).read_text())
    return data["interactions"][0]["body"]["context"]


@pytest.fixture
def sara() -> Flow:
    text = shared_path("flows", "SaraAlert__SaraAlert__assessment_studio_flow.json").read_text()
    text = text.replace("FILL_WITH_CUSTOM_CALLBACK_URL", "https://sara.example.com/callback")
    return Flow.from_definition(json.loads(text), flow_sid=FLOW_SID, revision=1)


def services(recorded: dict[str, Any]) -> dict[str, Any]:
    """Answer messages with the recorded Message resources (matched by body) and every HTTP
    callback the way SaraAlert's server did: 200, empty text/plain."""
    outbound = {}
    for entry in recorded["widgets"].values():
        if isinstance(entry, dict) and isinstance(entry.get("outbound"), dict):
            outbound[entry["outbound"]["Body"]] = entry["outbound"]

    def message(call: ServiceCall) -> CallResult:
        # The corpus revision renders a newline before the prompt ({% assign %} then a line
        # break); the recorded revision had none, so bodies are matched trimmed.
        return CallResult(True, copy.deepcopy(outbound[call.request["body"].strip()]))

    def http(call: ServiceCall) -> CallResult:
        return CallResult(True, {"status_code": 200, "content_type": "text/plain", "body": ""})

    return {"message": message, "http": http}


def drive(flow: Flow, recorded: dict[str, Any], trigger: Trigger, *resumes: Any):
    env = VirtualEnvironment()
    answers = services(recorded)
    sprint = start(flow, trigger, env, execution_sid=recorded["flow"]["sid"])
    sprint = run_until_wait(flow, sprint, env, answers)
    steps, base = list(sprint.steps), sprint.base_context
    for resume_input in resumes:
        sprint = run_until_wait(flow, resume(flow, sprint.state, resume_input, env), env, answers)
        steps.extend(sprint.steps)
    assert not [e for e in sprint.errors if e.fatal]
    rebuilt = base
    for step in steps:
        rebuilt = apply_patch(rebuilt, step.patch)
    assert rebuilt == sprint.state.context
    return sprint, steps


def test_inbound_stop_message_matches_the_recording(sara):
    recorded = recording("get_numbers_from_inbound_sms_trigger_execution.json")
    trigger = Trigger("incomingMessage", dict(recorded["trigger"]["message"]))
    sprint, steps = drive(sara, recorded, trigger)
    assert sprint.state.status == "ended"
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in steps] == [
        ("Trigger", "incomingMessage", "OptOutTypeNotBlank"),
        ("OptOutTypeNotBlank", "match", "PostOptOutInfoSTOP"),
        ("PostOptOutInfoSTOP", "success", "Ended"),
    ]
    assert sprint.state.context == recorded
    # The opt-out callback carried the execution SID, as the flow asks.
    assert sprint.state.context["flow"]["sid"] == recorded["flow"]["sid"]


def test_rest_sms_assessment_matches_the_recording(sara):
    recorded = recording("get_number_from_sms_assessment_execution.json")
    request = recorded["trigger"]["request"]
    reply = recorded["widgets"]["sms_assessment_prompt"]["inbound"]
    sprint, steps = drive(
        sara, recorded, Trigger("incomingRequest", copy.deepcopy(request)), Reply(dict(reply))
    )
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in steps] == [
        ("Trigger", "incomingRequest", "initialize_retry_count"),
        ("initialize_retry_count", "next", "sms_or_voice"),
        ("sms_or_voice", "match", "sms_assessment_prompt"),
        ("sms_assessment_prompt", "incomingMessage", "OptOutTypeNotBlankReply"),
        ("OptOutTypeNotBlankReply", "noMatch", "check_yes_no"),
        ("check_yes_no", "match", "send_assessment_data_no"),
        ("send_assessment_data_no", "success", "send_message_1"),
        ("send_message_1", "sent", "Ended"),
    ]
    context = copy.deepcopy(sprint.state.context)
    # The corpus revision also initialises an ``iterator`` the recorded revision lacked.
    assert context["flow"]["variables"].pop("iterator") == "0"
    assert context["widgets"]["initialize_retry_count"].pop("iterator") == "0"
    assert context == recorded


def test_rest_single_message_delivery_failure_matches_the_recording(sara):
    recorded = recording("get_numbers_from_single_message_execution.json")
    request = copy.deepcopy(recorded["trigger"]["request"])
    prompt = request["parameters"]["prompt"]
    # The corpus revision loops over ``messages_array``; the recorded one sent ``prompt``.
    request["parameters"]["messages_array"] = [
        {
            "prompt": prompt,
            "patient_submission_token": request["parameters"]["patient_submission_token"],
            "threshold_hash": request["parameters"]["threshold_hash"],
        }
    ]
    entry = recorded["widgets"]["send_single_message"]
    callback = {k: v for k, v in entry.items() if k != "outbound"}
    sprint, steps = drive(
        sara, recorded, Trigger("incomingRequest", request), DeliveryFailure(callback)
    )
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in steps][2:] == [
        ("sms_or_voice", "match", "split_on_iterator"),
        ("split_on_iterator", "match", "send_single_message"),
        ("send_single_message", "deliveryFailure", "send_single_message_error"),
        ("send_single_message_error", "success", "increment_params_iterator"),
        ("increment_params_iterator", "next", "split_on_iterator"),
        ("split_on_iterator", "noMatch", "Ended"),
    ]
    context = sprint.state.context
    widgets = context["widgets"]
    assert widgets["send_single_message"] == entry
    for name in ("send_single_message_error", "sms_or_voice"):
        assert widgets[name] == recorded["widgets"][name]
    for key in ("contact",):
        assert context[key] == recorded[key]
    assert context["flow"]["channel"] == recorded["flow"]["channel"]
    assert context["flow"]["sid"] == recorded["flow"]["sid"]
    assert context["trigger"]["request"]["to"] == recorded["trigger"]["request"]["to"]
    assert context["flow"]["variables"]["retry_count"] == "0"
    assert context["flow"]["variables"]["iterator"] == "1"


def test_shape_of_recorded_widgets_matches_for_every_sms_entry(sara):
    """Keys of each SMS widget entry are the recorded keys, no more, no less."""
    recorded = recording("get_number_from_sms_assessment_execution.json")
    request = recorded["trigger"]["request"]
    reply = recorded["widgets"]["sms_assessment_prompt"]["inbound"]
    sprint, _ = drive(
        sara, recorded, Trigger("incomingRequest", copy.deepcopy(request)), Reply(dict(reply))
    )
    for name, entry in recorded["widgets"].items():
        assert set(sprint.state.context["widgets"][name]) >= set(entry), name
        assert sprint.state.context["widgets"][name].keys() - entry.keys() <= {"iterator"}
