"""The caller's side of ``flowyard inbound call``: a ``Caller`` (Twilio's TwiML state machine)
that prints what is heard as it is heard, and asks at each ``<Gather>``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape

from flowyard.cli.chat import read
from flowyard.testing.caller import HANGUP, SILENCE, Call, Caller, Outcomes, Speech

KEYS = re.compile(r"[0-9*#w]+")
PROMPT = "keys or words (empty: silence, hangup)> "


@dataclass
class Answers:
    """Scripted answers first (``--digits`` for DTMF gathers, ``--speech`` for speech ones),
    then lines from the terminal or stdin; end of input hangs up."""

    out: Console
    digits: list[str]
    speech: list[str]

    def next(self, gather: ET.Element) -> Any:
        kinds = gather.get("input") or "dtmf"
        if "dtmf" in kinds and self.digits:
            return self.digits.pop(0)
        if "speech" in kinds and self.speech:
            return Speech(self.speech.pop(0))
        try:
            line = read(self.out, PROMPT)
        except EOFError:
            self.out.print("[dim](end of input: hanging up)[/dim]")
            return HANGUP
        if line.lower() == "hangup":
            return HANGUP
        if not line:
            return SILENCE
        return line if KEYS.fullmatch(line) else Speech(line)


class Prompted(Caller):
    """Shows each verb's sound at once, and asks ``answers`` when a gather listens."""

    def __init__(
        self, call: Call, base: dict[str, str], answers: Answers, outcomes: Outcomes
    ) -> None:
        super().__init__(call, base, [], outcomes)
        self.asker = answers
        self.shown = 0

    def _show(self) -> None:
        for heard in self.call.heard[self.shown :]:
            self.asker.out.print(f"[bold magenta]caller hears:[/bold magenta] {escape(heard)}")
        self.shown = len(self.call.heard)

    def _verb(self, url: str, node: ET.Element) -> Any:
        if node.tag != "Gather":
            step = super()._verb(url, node)
            self._show()
            return step
        for child in node:  # what the gather says or plays comes before the question
            super()._verb(url, child)
        self._show()
        self.answers = [self.asker.next(node)]
        return super()._verb(url, ET.Element("Gather", node.attrib))


def prompted(answers: Answers) -> Callable[..., Caller]:
    """The ``caller`` factory ``VoiceClient.call`` takes."""

    def make(call: Call, base: dict[str, str], _answers: list[Any], outcomes: Outcomes) -> Caller:
        return Prompted(call, base, answers, outcomes)

    return make
