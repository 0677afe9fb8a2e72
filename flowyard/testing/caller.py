"""Twilio's side of a call as a state machine over TwiML: what the caller hears, and the next
request Twilio would make after each answer (redirects, actions, gathers answered with given
digits or speech). The clients in ``flowyard.testing.voice`` and the console's call panel
drive it over HTTP or in process.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

MAX_REQUESTS = 200  # a flow looping forever must not hang a test


@dataclass(frozen=True)
class Speech:
    """A spoken answer to a gather."""

    text: str
    confidence: str = "0.91833675"
    language: str = "en-US"


HANGUP = "<hangup>"  # as an answer: the caller hangs up at that gather
SILENCE = None  # as an answer: the gather times out


@dataclass
class Exchange:
    """One webhook request Twilio would make and the TwiML it got back."""

    url: str
    params: dict[str, str]
    status: int
    twiml: str


@dataclass
class Call:
    """What happened on one call."""

    call_sid: str
    heard: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    execution_sid: str | None = None
    ended: bool = False
    # On hold: the execution waits for something else (an SMS reply); ``resume`` goes on.
    held: bool = False
    _caller: Any = field(default=None, repr=False)
    _final_url: str | None = field(default=None, repr=False)

    @property
    def last(self) -> ET.Element:
        """The last TwiML answer, parsed."""
        return ET.fromstring(self.exchanges[-1].twiml)


@dataclass
class Outcomes:
    """How the simulated world answers the verbs that are not the caller's input."""

    dial_status: str = "completed"
    dial_duration: str = "12"
    recording: bool = True  # False: the caller says nothing at a <Record>
    queue_result: str = "bridged"
    pay_result: str = "success"
    hang_up_in: tuple[str, ...] = ()  # verbs during which the caller hangs up (Dial, Record...)
    # What a <Connect><VirtualAgent> posts back when the agent is done; None: the caller stays.
    virtual_agent: dict[str, str] | None = field(
        default_factory=lambda: {"VirtualAgentStatus": "completed"}
    )
    apps: dict[str, Callable[[dict[str, str]], str]] = field(default_factory=dict)


class Caller:
    """Twilio's side of one call, as a state machine over TwiML answers."""

    def __init__(
        self, call: Call, base: dict[str, str], answers: list[Any], outcomes: Outcomes
    ) -> None:
        self.call = call
        self.base = base
        self.answers = list(answers)
        self.outcomes = outcomes
        self.status_url: str | None = None
        self.hold: tuple[str, dict[str, str]] | None = None

    def params(self, **extra: str) -> dict[str, str]:
        return {**self.base, "CallStatus": "in-progress", **extra}

    def next(self, url: str, twiml: str) -> tuple[str, dict[str, str]] | None:
        """The next request after ``twiml`` (fetched from ``url``), or None: the call ended."""
        root = ET.fromstring(twiml)
        for node in root:
            step = self._verb(url, node)
            if step == "end":
                return None
            if step is not None:
                return step
        return None  # no more verbs: Twilio hangs up

    def _action(self, url: str, node: ET.Element, **params: str) -> tuple[str, dict[str, str]]:
        target = urljoin(url, node.get("action") or url)
        return target, self.params(**params)

    def _hangs_up(self, tag: str) -> bool:
        return tag in self.outcomes.hang_up_in

    def _verb(self, url: str, node: ET.Element) -> Any:
        tag, heard = node.tag, self.call.heard
        if tag == "Say":
            heard.append((node.text or "").strip())
        elif tag == "Play":
            heard.append(
                f"[digits {node.get('digits')}]"
                if node.get("digits")
                else f"[play {(node.text or '').strip()}]"
            )
        elif tag == "Gather":
            for child in node:
                self._verb(url, child)
            if not self.answers:
                return None
            answer = self.answers.pop(0)
            if answer is SILENCE:
                return None
            if answer == HANGUP:
                return "end"
            if isinstance(answer, Speech):
                return self._action(
                    url,
                    node,
                    SpeechResult=answer.text,
                    Confidence=answer.confidence,
                    Language=answer.language,
                )
            return self._action(url, node, Digits=str(answer))
        elif tag == "Redirect":
            target = urljoin(url, (node.text or "").strip())
            if dict(parse_qsl(urlsplit(target).query)).get("FlowEvent") == "hold":
                # Flowyard holds the caller: stop here until the test moves the flow on.
                self.hold = (target, self.params())
                return "end"
            app = next((a for p, a in self.outcomes.apps.items() if target.startswith(p)), None)
            if app is not None:  # an external TwiML app, simulated in-process
                return self.next(target, app(self.params()))
            return target, self.params()
        elif tag == "Dial":
            heard.append(f"[dial {' '.join((c.text or '').strip() for c in node)}]")
            if self._hangs_up("Dial"):
                return self._action(url, node, CallStatus="completed", DialCallStatus="completed")
            if node.get("action") is None:
                return None
            return self._action(
                url,
                node,
                DialCallStatus=self.outcomes.dial_status,
                DialCallSid="CA" + uuid.uuid4().hex,
                DialCallDuration=self.outcomes.dial_duration,
            )
        elif tag == "Record":
            heard.append("[record]")
            sid = "RE" + uuid.uuid4().hex
            recording = {
                "RecordingUrl": f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
                "RecordingSid": sid,
                "RecordingDuration": "7",
            }
            if self._hangs_up("Record"):
                return self._action(url, node, Digits="hangup", **recording)
            if not self.outcomes.recording:
                return None  # Twilio skips the action when nothing was recorded
            return self._action(url, node, Digits="#", **recording)
        elif tag == "Enqueue":
            heard.append(f"[enqueue {(node.text or node.get('workflowSid') or '').strip()}]")
            return self._action(
                url,
                node,
                QueueResult=self.outcomes.queue_result,
                QueueSid="QU" + uuid.uuid4().hex,
                QueueTime="30",
            )
        elif tag == "Pay":
            heard.append("[pay]")
            return self._action(
                url,
                node,
                Result=self.outcomes.pay_result,
                PaymentToken="tok_" + uuid.uuid4().hex[:8],
                PaymentCardType="visa",
            )
        elif tag == "Connect":
            heard.append("[connect]")
            if self._hangs_up("Connect"):
                return self._action(url, node, CallStatus="completed")
            if self.outcomes.virtual_agent is None:
                return None
            return self._action(url, node, **self.outcomes.virtual_agent)
        elif tag in ("Start", "Stop"):
            heard.append(f"[{tag.lower()} {' '.join(c.tag.lower() for c in node)}]")
        elif tag in ("Hangup", "Reject"):
            return "end"
        return None


def call_params(
    account_sid: str,
    call_sid: str,
    from_: str,
    to: str,
    direction: str,
    extra: dict[str, str] | None,
) -> dict[str, str]:
    """The parameters Twilio posts on every request of a call."""
    return {
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "Called": to,
        "Caller": from_,
        "Direction": direction,
        "From": from_,
        "To": to,
        **(extra or {}),
    }
