"""The SaraAlert voice assessment driven like the recorded execution: REST trigger, outbound
call answered by a human, three silent gathers, then "oui" in French."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flowyard.testing.voice import SILENCE, Speech
from tests.e2e.helpers import wait_steps
from tests.e2e.test_saraalert_golden import (
    CONTACT,
    deterministic,
    golden,
    sara_definition,
    shape,
)
from tests.voice.helpers import harness

NUMBER = "+16625550100"
# Widgets only the recorded (older) revision had, and only today's has.
RECORDED_ONLY = ("split_on_retry_en", "increment_retry_count_en", "split_1")
TODAY_ONLY = ("split_on_retry_voice", "increment_retry_count_voice", "split_on_answered_by")
GEO = {
    "FromZip": "38646",
    "FromCity": "MARKS",
    "FromState": "MS",
    "FromCountry": "US",
    "ToZip": "03301",
    "ToCity": "CONCORD",
    "ToState": "NH",
    "ToCountry": "US",
    "CallerZip": "38646",
    "CallerCity": "MARKS",
    "CallerState": "MS",
    "CallerCountry": "US",
    "CalledZip": "03301",
    "CalledCity": "CONCORD",
    "CalledState": "NH",
    "CalledCountry": "US",
}


class Callback(BaseHTTPRequestHandler):
    """SaraAlert's callback as recorded: 410 with a JSON error."""

    bodies: list[bytes] = []

    def do_POST(self):
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        data = (
            b'{"success":false,"error":{"message":"Too many requests, please create a new '
            b'URL\\/token","id":null}}'
        )
        self.send_response(410)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def callback() -> Iterator[str]:
    Callback.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sara"
    finally:
        server.shutdown()


def _shape_diff(recorded: Any, ours: Any, path: str = "") -> list[str]:
    """Where two shapes differ, as readable paths."""
    if isinstance(recorded, dict) and isinstance(ours, dict):
        problems = [f"{path}.{k}: missing" for k in recorded if k not in ours]
        problems += [f"{path}.{k}: extra" for k in ours if k not in recorded]
        for key in recorded.keys() & ours.keys():
            problems += _shape_diff(recorded[key], ours[key], f"{path}.{key}")
        return problems
    return [] if recorded == ours else [f"{path}: {recorded!r} != {ours!r}"]


def _comparable(context: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    context = json.loads(json.dumps(context))
    for name in drop:
        context["widgets"].pop(name, None)
    return context


def test_voice_assessment_matches_the_recording(server, callback):
    recorded = golden("get_numbers_from_voice_assessment_execution.json")
    with harness(server) as h:
        flow_sid = h.create(sara_definition(callback))
        parameters = recorded["trigger"]["request"]["parameters"]
        execution = h.client.studio.v2.flows(flow_sid).executions.create(
            to=CONTACT, from_=NUMBER, parameters=parameters
        )
        wait_steps(h.client, flow_sid, execution.sid, 1)  # the call is placed
        call = h.voice.answer(
            to=CONTACT,
            answers=[SILENCE, SILENCE, SILENCE, Speech("oui", language="fr-CA")],
            extra=GEO,
        )
        assert call.heard[0] == parameters["intro"]
        assert call.heard.count(parameters["try_again"]) == 3
        ours = h.context(flow_sid, execution.sid)
        assert h.execution(flow_sid, execution.sid).status == "ended"
    assert json.loads(Callback.bodies[0])["response_status"] == "success_voice"
    assert ours["flow"]["variables"].pop("iterator") == "0"
    ours["widgets"]["initialize_retry_count"].pop("iterator")
    ours = _comparable(ours, TODAY_ONLY)
    expected = _comparable(recorded, RECORDED_ONLY)
    assert sorted(_shape_diff(shape(expected), shape(ours))) == []
    # Per-run call SIDs stand in for the recorded one.
    text = json.dumps(ours).replace(call.call_sid, recorded["widgets"]["call_user"]["CallSid"])
    problems = deterministic(expected, json.loads(text))
    # The recording stores FlowEvent "timeout" beside a speech result that took the speech
    # branch (Twilio posts speech once speechTimeout runs out); Flowyard matches it.
    assert problems == []
