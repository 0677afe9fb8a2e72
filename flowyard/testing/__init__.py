"""Test Studio flows without a phone or a server.

From Python (pytest or anything else)::

    from flowyard.testing import Response, load_flow

    flow = load_flow("flows/survey.json", mocks={"Lookup": [Response(200, {"ok": True})]})
    run = flow.start({"name": "Ada"})
    run.reply("yes")
    run.advance(3600)  # the reply timeout fires at once on the virtual clock
    assert run.sent[-1].body == "Thanks!"

Flow test files (``flowyard test``) are described in ``docs/flow-tests.md``.
"""

from .coverage import Coverage
from .flows import FlowFile, load_flow
from .mocks import Mocks, NetworkError, Response
from .run import CONTACT, CONVERSATION, FLOW_NUMBER, FlowRun, Message, ScriptError

__all__ = [
    "CONTACT",
    "CONVERSATION",
    "FLOW_NUMBER",
    "Coverage",
    "FlowFile",
    "FlowRun",
    "Message",
    "Mocks",
    "NetworkError",
    "Response",
    "ScriptError",
    "load_flow",
]
