"""The caller's side of an in-process call: hear the verbs a voice widget asks for, answer
gathers with digits or speech, and report what Twilio would post back.

Voice widgets describe TwiML as verb dicts (see ``flowyard/engine/widgets/_voice.py``);
this walks them the way Twilio walks a TwiML document, so no XML or server is involved.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from flowyard.engine import CallResult, ServiceCall

HANGUP = "hangup"  # the call is over: the host ends the execution
WAIT = "wait"  # the caller must act (a gather) or a timer must fire (a redirect)

# What the simulated far end answers for verbs that are not the caller's input.
_OUTCOMES: dict[str, dict[str, str]] = {
    "dial": {"DialCallStatus": "completed", "DialCallDuration": "12"},
    "record": {"RecordingDuration": "7", "Digits": "#"},
    "enqueue": {"QueueResult": "bridged", "QueueTime": "30"},
    "pay": {"Result": "success", "PaymentCardType": "visa"},
    "connect": {"VirtualAgentStatus": "completed"},
}


@dataclass
class Input:
    """One answer to a gather: ``digits``, ``speech`` or ``silence``."""

    kind: str
    value: str = ""


@dataclass
class Phone:
    """One live call; ``heard`` is what the caller heard, in order."""

    params: dict[str, str]
    heard: list[str] = field(default_factory=list)
    verbs: list[dict[str, Any]] = field(default_factory=list)
    call: ServiceCall | None = None
    waiting: str | None = None  # "gather" or "redirect" while the caller must act
    waiting_verb: dict[str, Any] | None = None
    # Per verb, what the far end posts instead of the defaults (``{"dial": {...}}``).
    outcomes: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def inbound(cls, from_: str, to: str, account_sid: str, call_sid: str) -> Phone:
        return cls(
            {
                "AccountSid": account_sid,
                "ApiVersion": "2010-04-01",
                "CallSid": call_sid,
                "Called": to,
                "Caller": from_,
                "Direction": "inbound",
                "From": from_,
                "To": to,
                "CallStatus": "ringing",
            }
        )

    def callback(
        self, event: str, query: dict[str, str] | None = None, **params: str
    ) -> CallResult:
        request = self.call.request if self.call is not None else {}
        posted = {**self.params, "CallStatus": "in-progress", **params}
        return CallResult(
            ok=True,
            data={
                "callback": {
                    "event": event,
                    "params": posted,
                    "query": {"FlowEvent": event, **(query or {})},
                    "request": request,
                }
            },
        )

    def answer(self, call: ServiceCall, given: Input | None = None) -> CallResult | str:
        """Play ``call``'s verbs (from where the caller stopped, if it is the same call):
        a callback for the widget, ``WAIT`` or ``HANGUP``."""
        if call is not self.call:
            self.call, self.verbs = call, list(call.request.get("verbs") or [])
            self.waiting_verb = None
        self.waiting = None
        while self.verbs:
            verb = self.verbs.pop(0)
            outcome = self._verb(verb, given)
            given = None  # an answer is used by the first gather only
            if outcome is not None:
                return outcome
        return HANGUP  # Twilio hangs up when the TwiML runs out

    def _verb(self, verb: dict[str, Any], given: Input | None) -> CallResult | str | None:
        tag, action = verb.get("verb", ""), verb.get("action")
        if tag == "gather":
            if self.waiting_verb is not verb:  # a gather resumed was already heard
                for child in verb.get("children") or []:
                    self._hear(child)
            if given is None:
                self.verbs.insert(0, verb)
                self.waiting, self.waiting_verb = "gather", verb
                return WAIT
            if given.kind == "digits":
                return self.callback(action or "keypress", Digits=given.value)
            if given.kind == "speech":
                # What Twilio posts for a speech result (the SaraAlert recording), as the
                # server-side caller (``testing.caller``) posts it.
                return self.callback(
                    action or "keypress",
                    SpeechResult=given.value,
                    Confidence="0.91833675",
                    Language="en-US",
                )
            return None  # silence: Twilio goes on to the next verb
        if tag == "redirect":
            if verb.get("event"):
                return self.callback(verb["event"])
            self.heard.append(f"[redirect {verb.get('body', '')}]")
            self.verbs.insert(0, verb)
            self.waiting, self.waiting_verb = "redirect", verb
            return WAIT
        if tag in ("hangup", "reject"):
            return HANGUP
        if tag == "raw":
            return self._raw(str(verb.get("xml") or ""))
        self._hear(verb)
        if action:
            extra = {**_OUTCOMES.get(tag, {}), **self.outcomes.get(tag, {})}
            if tag == "dial":  # the child call Twilio placed, as the server-side caller says
                extra.setdefault("DialCallSid", "CA" + uuid.uuid4().hex)
            elif tag == "enqueue":
                extra.setdefault("QueueSid", "QU" + uuid.uuid4().hex)
            if tag == "record":
                sid = "RE" + uuid.uuid4().hex
                extra |= {
                    "RecordingSid": sid,
                    "RecordingUrl": f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
                }
            return self.callback(action, **extra)
        return None

    def _hear(self, verb: dict[str, Any]) -> None:
        tag, body, attrs = verb.get("verb", ""), verb.get("body"), verb.get("attrs") or {}
        if tag == "say":
            self.heard.append(str(body or "").strip())
        elif tag == "play":
            digits = attrs.get("digits")
            self.heard.append(f"[digits {digits}]" if digits else f"[play {body or ''}]")
        elif tag in ("dial", "enqueue", "connect", "start", "stop", "record", "pay"):
            inner = " ".join(
                str(c.get("body") or c.get("verb")) for c in verb.get("children") or []
            )
            self.heard.append(f"[{tag} {inner or body or ''}]".replace(" ]", "]"))

    def _raw(self, xml: str) -> str | None:
        """TwiML a Function returned: hear its Say/Play; a Hangup ends the call."""
        try:
            root = ET.fromstring(xml)
        except ET.ParseError:
            return None
        for node in root.iter():
            if node.tag == "Say":
                self.heard.append((node.text or "").strip())
            elif node.tag == "Play":
                self.heard.append(f"[play {(node.text or '').strip()}]")
            elif node.tag in ("Hangup", "Reject"):
                return HANGUP
        return None
