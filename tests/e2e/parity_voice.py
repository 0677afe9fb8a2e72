"""Parity's calls through the server, as Twilio makes them: an inbound call's requests
(``VoiceClient.call``, the caller's answers given in order) and the calls a flow places,
answered or not as the script says (``VoiceClient.answer``/``fail``: the first webhook of an
answered call, or the status callback of one that never connected)."""

from __future__ import annotations

import time
from typing import Any

from flowyard.platform import fake
from flowyard.testing.voice import HANGUP, SILENCE, Outcomes, Speech, VoiceClient

VOICE = ("digits", "speech", "silence", "hangup")
PLACED_WITHIN = 15.0


def caller_answers(actions: list[tuple[str, Any]]) -> list[Any]:
    """A script's voice actions as the answers ``VoiceClient.call`` gives at each gather."""
    answers: list[Any] = []
    for action, value in actions:
        if action == "digits":
            answers.append(str(value))
        elif action == "speech":
            answers.append(Speech(str(value)))
        elif action == "silence":
            answers.append(SILENCE)
        elif action == "hangup":
            answers.append(HANGUP)
    return answers


def caller_outcomes(outcomes: dict[str, dict[str, str]]) -> Outcomes:
    """A test file's ``call.outcomes`` as the server-side caller's (Dial's status only)."""
    dial = outcomes.get("dial") or {}
    return Outcomes(dial_status=dial.get("DialCallStatus", "completed"))


class Callee:
    """Plays whoever the flow calls: each placed call ends as the script's next outcome."""

    def __init__(self, server: Any, client: Any, outcomes: list[str]) -> None:
        self.voice = VoiceClient(server.base_url, client.username, client.password)
        self.outcomes = list(outcomes)
        self.seen: set[str] = set()

    def drive(self, placed_by_now: int) -> None:
        """Answer (or not) the calls placed since the last time, up to ``placed_by_now``."""
        while len(self.seen) < placed_by_now:
            call = self._new_call()
            self.seen.add(call["sid"])
            outcome = self.outcomes.pop(0) if self.outcomes else "answered"
            status, answered_by = fake.call_outcome(outcome)
            # ``answer``/``fail`` take the newest placed call: the one just found.
            if answered_by is None:
                self.voice.fail(status)
            else:
                self.voice.answer(answered_by=answered_by)

    def _new_call(self) -> dict[str, Any]:
        deadline = time.monotonic() + PLACED_WITHIN
        while True:
            call = self.voice.placed_call(timeout=PLACED_WITHIN)
            if call["sid"] not in self.seen:
                return call
            if time.monotonic() > deadline:
                raise AssertionError("the flow placed no new call")
            time.sleep(0.02)
