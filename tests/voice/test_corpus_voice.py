"""Every voice flow of the shared corpus, driven through one full call path.

A path passes when the execution ran past its first voice widget and ended without an engine
error (the engine's ``ended_reason`` is read from the server's database: ``ERROR`` means a
fatal engine error; hanging up is ``ENDED``, running off the flow ``FLOW_END``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from flowyard.store import create_db_engine
from flowyard.store.tables import executions
from flowyard.testing.voice import HANGUP, SILENCE, Speech
from tests.conftest import shared_path
from tests.e2e.helpers import wait_steps
from tests.voice.helpers import CALLER, NUMBER, harness

INBOUND = {
    "RJPearson94__twilio-sdk-go__studio_acceptance_test.json": [],
    "SaraAlert__SaraAlert__assessment_studio_flow.json": [],
    "gbernz__twilio-serverless-studio-flow-ivr-builder__flowtemplate.json": ["1", "1"],
    "guvarallo__frontline-airtable-studio-bot__studio-flow.json": ["1", Speech("yes")],
    "jesperfj__twilio-ivr-studio__ivr.json": ["1", "2"],
    "kaiquelupo__twilio-pulumi-provider-example__index.json": [],
    "mobilebiz__amivoice-recognize__AMI.json": [],
    "mobilebiz__business-hours__BusinessHours.json": [],
    "sheikplastk__twilio-db-test__firstPrototype2.json": ["1", "1"],
    "twilio-demos__dtolb-gd-poc__studio-flow.json": [],
    "twilio-labs__function-templates__volunteer-communication-center-studio_flow.private.json": [
        "1"
    ],
    "twilio-labs__sample-flows-github-actions__webinar-flow.json": ["1", SILENCE, HANGUP],
    "twilio-professional-services__flex-project-template__template_example_callback_flow.json": [],
    "twilio-professional-services__flex-project-template__template_example_schedule_flow.json": [],
    "twilio-professional-services__per-agent-voicemail__VoiceIVR.json": ["1", "1"],
}
OUTBOUND = {
    "mobilebiz__seminar0325-kwc__call.json": ({}, ["1"]),
    "vernig__twilio-autodialer__studio-flow.json": ({}, []),
    "SaraAlert__SaraAlert__assessment_studio_flow.json": (
        {
            "medium": "VOICE",
            "language": "EN",
            "intro": "Hi",
            "prompt": "Any symptoms?",
            "try_again": "Again",
            "thanks": "Thanks",
            "max_retries_message": "Bye",
            "patient_submission_token": "t",
            "threshold_hash": "h",
        },
        [Speech("no")],
    ),
}


def _load(name: str) -> dict[str, Any]:
    return json.loads(shared_path("flows", name).read_text())


def _reason(server: Any, execution_sid: str) -> str | None:
    db = create_db_engine(server.database_url)
    try:
        with db.connect() as conn:
            row = conn.execute(
                sa.select(executions.c.engine_state, executions.c.status).where(
                    executions.c.sid == execution_sid
                )
            ).one()
    finally:
        db.dispose()
    assert row.status == "ended"
    return orjson.loads(row.engine_state).get("ended_reason")


@pytest.mark.parametrize("name", sorted(INBOUND))
def test_inbound_call_paths(server, name):
    definition = _load(name)
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER, answers=INBOUND[name])
        (execution,) = h.client.studio.v2.flows(flow_sid).executions.list()
        steps = h.steps(flow_sid, execution.sid)
        assert steps[0][:2] == ("Trigger", "incomingCall")
        assert len(steps) >= 2, steps
        assert _reason(server, execution.sid) in ("FLOW_END", "ENDED")
        assert all(e.status == 200 for e in call.exchanges)


@pytest.mark.parametrize("name", sorted(OUTBOUND))
def test_outbound_call_paths(server, name):
    definition = _load(name)
    parameters, answers = OUTBOUND[name]
    with harness(server) as h:
        flow_sid = h.create(definition)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(
            to=CALLER, from_=NUMBER, parameters=parameters
        )
        wait_steps(h.client, flow_sid, execution.sid, 1)  # the call is placed
        call = h.voice.answer(to=CALLER, answers=answers)
        assert call.heard, "the answered call heard nothing"
        steps = h.steps(flow_sid, execution.sid)
        assert "answered" in [s[1] for s in steps], steps
        assert _reason(server, execution.sid) in ("FLOW_END", "ENDED")
