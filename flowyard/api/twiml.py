"""TwiML from the engine's verb descriptions, built with the official ``twilio.twiml``.

Every ``action`` and flow ``<Redirect>`` points back at the flow webhook with ``FlowEvent``
and ``executionSid`` in the query (see engine ``widgets/_voice.py`` for the verb format).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
HANGUP = f"{XML_HEAD}<Response><Hangup/></Response>"
EMPTY = f"{XML_HEAD}<Response/>"
UNAVAILABLE = (
    f"{XML_HEAD}<Response><Say>We are sorry, this number cannot take your call right now."
    "</Say><Hangup/></Response>"
)


def event_url(webhook: str, execution_sid: str, step: int | None = None) -> Callable[[str], str]:
    tail = "" if step is None else f"&step={step}"

    def url(event: str) -> str:
        query = urlencode({"FlowEvent": event, "executionSid": execution_sid})
        return f"{webhook}?{query}{tail}"

    return url


def _add(parent: TwiML, item: dict[str, Any], url: Callable[[str], str]) -> None:
    name = item["verb"]
    if name == "redirect" and "event" in item:
        parent.redirect(url(item["event"]), method="POST")  # type: ignore[attr-defined]
        return
    attrs = dict(item.get("attrs") or {})
    if "action" in item:
        attrs["action"] = url(item["action"])
        attrs["method"] = "POST"
    method = getattr(parent, name)
    body = item.get("body")
    node = method(body, **attrs) if body is not None else method(**attrs)
    for child in item.get("children") or ():
        _add(node, child, url)


def render(
    verbs: Iterable[dict[str, Any]], webhook: str, execution_sid: str, step: int | None = None
) -> str:
    """The ``<Response>`` for a voice widget's verbs; ``step`` numbers the wait they answer."""
    url = event_url(webhook, execution_sid, step)
    verbs = list(verbs)
    if any(v["verb"] == "raw" for v in verbs):
        return _with_raw(verbs, url)
    response = VoiceResponse()
    for item in verbs:
        _add(response, item, url)
    return response.to_xml()


def _with_raw(verbs: list[dict[str, Any]], url: Callable[[str], str]) -> str:
    # A Function's own TwiML is spliced verb by verb, so what follows it still runs.
    root = ET.Element("Response")
    for item in verbs:
        if item["verb"] == "raw":
            try:
                parsed = ET.fromstring(item["xml"].strip())
            except ET.ParseError:
                continue
            root.extend(list(parsed) if parsed.tag == "Response" else [parsed])
            continue
        response = VoiceResponse()
        _add(response, item, url)
        root.extend(list(ET.fromstring(response.to_xml(xml_declaration=False))))
    return XML_HEAD + ET.tostring(root, encoding="unicode")
