"""The SaraAlert flow driven like the executions recorded from real Studio.

Each test replays one recorded path through the server (REST trigger or signed inbound
webhook, replies, status callbacks) and compares the execution context with the recording:
the same shape everywhere, the same values wherever they are deterministic.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import shared_path
from tests.e2e.helpers import inbound_sms, post_signed, wait_ended, wait_steps, webhook_url
from tests.e2e.stub import http_stub

CONTACT = "+16035555555"
SERVICE = "MG" + "5" * 32
NUMBER = "+16625550100"
# Recorded values that stand for secrets or per-run SIDs in the recordings.
PLACEHOLDERS = ("<TWILLIO_", "SM", "FN", "FW")


def golden(name: str) -> dict[str, Any]:
    data = json.loads(shared_path("golden", "saraalert", name).read_text())
    return data["interactions"][0]["body"]["context"]


def sara_definition(callback_url: str) -> dict[str, Any]:
    text = shared_path("flows", "SaraAlert__SaraAlert__assessment_studio_flow.json").read_text()
    return json.loads(text.replace("FILL_WITH_CUSTOM_CALLBACK_URL", callback_url))


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and nesting, with scalars reduced to their kind."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return "null" if value is None else "scalar"


def deterministic(recorded: Any, ours: Any, path: str = "") -> list[str]:
    """Paths where a recorded value that does not depend on time or SIDs differs from ours."""
    if isinstance(recorded, dict) and isinstance(ours, dict):
        problems = []
        for key, value in recorded.items():
            if key in ("DateCreated", "DateUpdated", "executionSid", "sid", "flow_sid"):
                continue
            problems += deterministic(value, ours.get(key), f"{path}.{key}")
        return problems
    if isinstance(recorded, str) and (recorded.startswith(PLACEHOLDERS) or "<TWILLIO_" in recorded):
        return []
    return [] if recorded == ours else [f"{path}: recorded {recorded!r}, got {ours!r}"]


def start_sara(client, callback: str, parameters: dict[str, Any]):
    flow = client.studio.v2.flows.create(
        friendly_name="Sara Alert", status="published", definition=sara_definition(callback)
    )
    execution = client.studio.v2.flows(flow.sid).executions.create(
        to=CONTACT, from_=SERVICE, parameters=parameters
    )
    return flow, execution


def context(client, flow_sid: str, execution_sid: str) -> dict[str, Any]:
    return (
        client.studio.v2.flows(flow_sid)
        .executions(execution_sid)
        .execution_context()
        .fetch()
        .context
    )


def test_sms_assessment_answered_no(server, client):
    recorded = golden("get_number_from_sms_assessment_execution.json")
    with http_stub() as (callback, calls):
        flow, execution = start_sara(client, callback, recorded["trigger"]["request"]["parameters"])
        assert execution.status == "active" and execution.context == {}
        wait_steps(client, flow.sid, execution.sid, 1)  # the assessment waits for its answer
        reply = inbound_sms(CONTACT, SERVICE, "Non", client.username)
        reply.update(
            {
                "MessagingServiceSid": SERVICE,
                "FromZip": "03301",
                "FromCity": "CONCORD",
                "ToZip": "38646",
                "ToCountry": "US",
                "ToState": "MS",
                "ToCity": "MARKS",
                "FromState": "NH",
                "FromCountry": "US",
            }
        )
        url = webhook_url(server.base_url, client.username, flow.sid)
        assert post_signed(url, client.password, reply).status_code == 200
        wait_ended(client, flow.sid, execution.sid)
        ours = context(client, flow.sid, execution.sid)
    # The recording predates the flow's `iterator` variable; everything else is as recorded.
    assert ours["flow"]["variables"].pop("iterator") == "0"
    ours["widgets"]["initialize_retry_count"].pop("iterator")
    assert shape(ours) == shape(recorded)
    assert deterministic(recorded, ours) == []
    (call,) = calls
    assert json.loads(call[2]) == {
        "response_status": "success_sms",
        "experiencing_symptoms": "No",
        "patient_submission_token": "dmHCpUHC-Q",
        "threshold_hash": recorded["flow"]["data"]["threshold_hash"],
    }


def test_inbound_stop_posts_the_opt_out(server, client):
    recorded = golden("get_numbers_from_inbound_sms_trigger_execution.json")
    with http_stub() as (callback, calls):
        flow = client.studio.v2.flows.create(
            friendly_name="Sara Alert", status="published", definition=sara_definition(callback)
        )
        message = {
            **recorded["trigger"]["message"],
            "AccountSid": client.username,
            "MessagingServiceSid": SERVICE,
            "To": NUMBER,
        }
        url = webhook_url(server.base_url, client.username, flow.sid)
        assert post_signed(url, client.password, message).status_code == 200
        (started,) = client.studio.v2.flows(flow.sid).executions.list()
        execution = wait_ended(client, flow.sid, started.sid)
        ours = context(client, flow.sid, execution.sid)
    assert execution.status == "ended"
    assert shape(ours) == shape(recorded)
    assert deterministic(recorded, ours) == []
    (call,) = calls
    assert json.loads(call[2]) == {
        "patient_submission_token": execution.sid,
        "response_status": "opt_out",
    }


def test_single_message_delivery_failure(server, client):
    recorded = golden("get_numbers_from_single_message_execution.json")
    parameters = dict(recorded["trigger"]["request"]["parameters"])
    # Today's flow walks an array of messages; the recording had one message.
    parameters["messages_array"] = [
        {
            "prompt": parameters["prompt"],
            "patient_submission_token": "dmHCpUHC-Q",
            "threshold_hash": parameters["threshold_hash"],
        }
    ]
    with http_stub() as (callback, calls):
        flow, execution = start_sara(client, callback, parameters)
        wait_steps(client, flow.sid, execution.sid, 1)  # the message is out, the flow waits
        waiting = context(client, flow.sid, execution.sid)
        outbound = waiting["widgets"]["send_single_message"]["outbound"]
        # The template starts with an `assign` tag, so Liquid leaves a newline first.
        assert outbound["Body"] == "\n" + parameters["prompt"]
        url = webhook_url(server.base_url, client.username, flow.sid)
        status = {
            "MessageSid": outbound["Sid"],
            "SmsSid": outbound["Sid"],
            "SmsStatus": "failed",
            "MessageStatus": "failed",
            "ErrorCode": "21610",
            "To": CONTACT,
            "From": NUMBER,
            "MessagingServiceSid": SERVICE,
            "AccountSid": client.username,
            "ApiVersion": "2010-04-01",
        }
        assert (
            post_signed(f"{url}?executionSid={execution.sid}", client.password, status).status_code
            == 200
        )
        wait_ended(client, flow.sid, execution.sid)
        ours = context(client, flow.sid, execution.sid)
        assert len(calls) == 1
    widget = ours["widgets"]["send_single_message"]
    expected = recorded["widgets"]["send_single_message"]
    # The recorded revision rendered the prompt without today's leading `assign` line.
    widget["outbound"]["Body"] = widget["outbound"]["Body"].removeprefix("\n")
    assert shape(widget) == shape(expected)
    assert deterministic(expected, widget) == []
    assert (
        ours["widgets"]["send_single_message_error"]
        == recorded["widgets"]["send_single_message_error"]
    )
    assert set(recorded["widgets"]) <= set(ours["widgets"])
