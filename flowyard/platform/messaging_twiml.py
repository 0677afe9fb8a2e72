"""Twilio's part in a TwiML Redirect on a messaging execution, played by the host.

On Studio the redirect answers the inbound-message webhook with ``<Redirect>``, and Twilio
fetches the URL and carries out its Messaging TwiML. Flowyard has answered that webhook long
before the flow runs, so the host does what Twilio would: fetch the URL with the message's
parameters, send each ``<Message>``, follow ``<Redirect>`` (bounded), and notice a redirect
back to the flow's own webhook with ``FlowEvent=return``, which returns control.

The steps are written once, without I/O (``carry_out`` is a generator yielding ``Fetch`` and
``Send`` and receiving each one's ``Outcome``), so the server's host (async, real HTTP) and
the in-process test runners (mocks, the fake platform) behave the same.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from flowyard.platform import Outcome

KIND = "twiml_fetch"  # the engine's service call
MAX_HOPS = 5  # redirects followed before giving up (Twilio stops redirect loops too)
HTTP_RETRIEVAL = 11200  # "HTTP retrieval failure"
PARSE_FAILURE = 12100  # "Document parse failure"


@dataclass(frozen=True, slots=True)
class Fetch:
    """Fetch a TwiML document; answered with ``perform``'s ``Outcome``."""

    method: str
    url: str
    params: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Send:
    """Send one ``<Message>``; answered with the platform's ``Outcome``."""

    to: str
    from_: str
    body: str
    media_urls: list[str] = field(default_factory=list)

    def request(self) -> dict[str, Any]:
        """As a send widget's rendered request (``fake.message_request`` reads it)."""
        return {"to": self.to, "from": self.from_, "body": self.body, "media_urls": self.media_urls}


@dataclass(frozen=True, slots=True)
class Document:
    """What a Messaging TwiML document asks for: messages, then maybe a redirect."""

    messages: list[Send]
    redirect: tuple[str, str] | None  # (method, url) as written


class TwimlError(ValueError):
    pass


Step = Fetch | Send
Driver = Generator[Step, Outcome, Outcome]


def parse(text: str, *, to: str, from_: str) -> Document:
    """Parse Messaging TwiML; ``to``/``from_`` are the defaults of ``<Message>``.

    A DOCTYPE or entity declaration is refused before parsing: ElementTree would expand
    internal entities (billion laughs), and Twilio's TwiML never needs them.
    """
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise TwimlError("DOCTYPE and entity declarations are not allowed in TwiML")
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as exc:
        raise TwimlError(f"not well-formed XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"root element is <{root.tag}>, not <Response>")
    messages: list[Send] = []
    for element in root:
        if element.tag == "Message":
            messages.append(_message(element, to, from_))
        elif element.tag == "Redirect":
            url = (element.text or "").strip()
            if not url:
                raise TwimlError("<Redirect> has no URL")
            method = (element.get("method") or "POST").strip().upper()
            # Verbs after a <Redirect> are never reached, as with Twilio.
            return Document(messages, (method, url))
        else:
            raise TwimlError(f"<{element.tag}> is not a Messaging TwiML verb")
    return Document(messages, None)


def _message(element: ET.Element, to: str, from_: str) -> Send:
    """``<Message>`` holds its text directly, or ``<Body>``/``<Media>`` nouns."""
    bodies = [child.text or "" for child in element if child.tag == "Body"]
    media = [(child.text or "").strip() for child in element if child.tag == "Media"]
    body = "".join(bodies) if bodies or media else (element.text or "")
    return Send(
        to=(element.get("to") or "").strip() or to,
        from_=(element.get("from") or "").strip() or from_,
        body=body.strip(),
        media_urls=[m for m in media if m],
    )


def returned(url: str, account_sid: str, flow_sid: str) -> dict[str, str] | None:
    """The query of a redirect back to the flow's webhook with ``FlowEvent=return``;
    None for any other URL. Matched on the path, so any host (Twilio's, a public URL, a
    tunnel) counts."""
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith(f"/Accounts/{account_sid}/Flows/{flow_sid}"):
        return None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return query if query.get("FlowEvent") == "return" else None


def _failed(message: str, code: int) -> Outcome:
    # The code rides in ``data`` too: the engine sees only ``CallResult`` (ok, data, error).
    return Outcome(False, {"error_code": code}, message, code)


def carry_out(request: dict[str, Any], account_sid: str) -> Driver:
    """Run the redirect of a TwiML Redirect widget's ``twiml_fetch`` request.

    The result's data: ``returned`` (control came back), ``query`` (the return URL's
    parameters), ``messages`` (SIDs sent), ``hops``. ``records`` gathers the sends'.
    """
    method = str(request.get("method") or "POST").upper()
    url = str(request.get("url") or "")
    params = [(str(k), str(v)) for k, v in (request.get("params") or {}).items()]
    to, from_ = str(request.get("to") or ""), str(request.get("from") or "")
    flow_sid = str(request.get("flow_sid") or "")
    records: list[tuple[str, dict[str, Any]]] = []
    sent: list[str] = []

    def done(query: dict[str, str] | None, hops: int) -> Outcome:
        data = {"returned": query is not None, "query": query or {}, "messages": sent}
        return Outcome(True, {**data, "hops": hops}, records=tuple(records))

    for hop in range(MAX_HOPS + 1):
        answer = yield Fetch(method, url, params)
        if not answer.ok:
            return _failed(answer.error or "TwiML could not be fetched", HTTP_RETRIEVAL)
        data = answer.data or {}
        status = int(data.get("status_code") or 0)
        if not 200 <= status < 300:
            return _failed(f"TwiML URL {url} answered HTTP {status}", HTTP_RETRIEVAL)
        try:
            document = parse(str(data.get("body") or ""), to=to, from_=from_)
        except TwimlError as exc:
            return _failed(f"TwiML from {url}: {exc}", PARSE_FAILURE)
        for message in document.messages:
            outcome = yield message
            records.extend(outcome.records)
            if not outcome.ok:
                code = outcome.error_code or HTTP_RETRIEVAL
                return _failed(f"<Message> not sent: {outcome.error}", code)
            sent.append(str((outcome.data or {}).get("Sid") or (outcome.data or {}).get("sid")))
        if document.redirect is None:
            return done(None, hop)
        method, target = document.redirect
        url = urljoin(url, target)
        query = returned(url, account_sid, flow_sid)
        if query is not None:
            return done(query, hop + 1)
        if returned(url.split("?")[0] + "?FlowEvent=return", account_sid, flow_sid) is not None:
            # Back to the flow's webhook without returning: the widget keeps waiting.
            return done(None, hop + 1)
    return _failed(f"more than {MAX_HOPS} TwiML redirects", HTTP_RETRIEVAL)


def drive(driver: Driver, answer: Any) -> Outcome:
    """Run ``driver`` synchronously, answering each step with ``answer(step)``."""
    try:
        step = next(driver)
        while True:
            step = driver.send(answer(step))
    except StopIteration as stop:
        return stop.value
