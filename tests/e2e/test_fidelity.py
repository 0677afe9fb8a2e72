"""Studio's behaviour where it differs from a naive reading, through ``flowyard serve`` with
the SDK (issue 12; the engine-level tests are in tests/engine/test_liquid_studio.py)."""

from __future__ import annotations

from tests.e2e.helpers import wait_ended, wait_messages
from tests.flows import flow, go, state

CONTACT, NUMBER = "+15550007777", "+15559990000"


def test_liquid_renders_as_studio_renders_it(server, client):
    body = (
        "{% if flow.variables.tries > 2 %}many{% else %}few{% endif %} "
        "{{ flow.data.page.offset | plus: flow.data.page.limit }} "
        "{{ flow.data.items.0.name }}[{{ flow.data.none.0 }}] {{ 2.5 | round }}"
    )
    definition = flow(
        state("count", "set-variables", [go("next", "say")],
              variables=[{"key": "tries", "value": "3"}]),
        state("say", "send-message", [go("sent", "ask"), go("failed")], body=body,
              **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}),
        state("ask", "send-and-wait-for-reply", [go("incomingMessage"), go("timeout")],
              body="?", timeout="{{flow.data.wait}}", **{"from": "{{flow.channel.address}}"}),
        rest="count",
    )  # fmt: skip
    flow_ = client.studio.v2.flows.create(
        friendly_name="liquid", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT,
        from_=NUMBER,
        parameters={"page": {"offset": 20, "limit": 10}, "items": [{"name": "n"}], "wait": "1"},
    )
    # The wait's timeout is a template too: one second, not the 3,600 s default.
    wait_ended(client, flow_.sid, execution.sid, timeout=30)
    sent = [m.body for m in reversed(wait_messages(client, CONTACT, 2))]
    assert sent == ["many 30 n[] 3", "?"]
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert steps[0].transitioned_from == "ask" and steps[0].name == "timeout"
