"""Importing a project: ``examples/`` twice with ``--update`` gives each flow once with two
revisions, onboarding's ``run-subflow`` names the ask-name flow imported with it and runs it,
and a ``flow_sid`` naming no flow is a warning with its property path."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_inbound import inbound
from tests.cli.test_transfer import ARROW, EXAMPLES, creds, flowyard
from tests.conftest import Server
from tests.e2e.helpers import wait_messages

FLOW_SID_PATH = "#/states/1/properties/flow_sid"


def test_examples_imported_twice_are_updated_and_the_subflow_runs(server: Server) -> None:
    account = server.new_account("project")
    url = server.base_url
    first = flowyard("import", str(EXAMPLES), "--to", url, *creds(account))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "warning" not in first.stdout
    second = flowyard("import", str(EXAMPLES), "--update", "--to", url, *creds(account))
    assert second.returncode == 0, second.stdout + second.stderr
    assert dict(ARROW.findall(first.stdout)) == {
        path: sid for path, sid in ARROW.findall(second.stdout.replace(" (revision 2)", ""))
    }

    client = server.client(*account)
    flows = {}
    for flow in client.studio.v2.flows.list():
        assert flow.friendly_name not in flows, "a duplicate flow"
        flows[flow.friendly_name] = flow
    assert set(flows) == {"appointment", "ivr", "onboarding", "ask-name"}
    assert {flow.revision for flow in flows.values()} == {2}
    onboarding = client.studio.v2.flows(flows["onboarding"].sid).fetch()
    subflow = onboarding.definition["states"][1]["properties"]["flow_sid"]
    assert subflow == flows["ask-name"].sid
    assert onboarding.warnings == []

    contact = "+15550007777"
    started = inbound(server, account, "sms", onboarding.sid, "--from", contact, "--body", "start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "flow: What is your name?" in started.stdout
    reply = inbound(
        server, account, "sms", onboarding.sid, "--from", contact, "--body", "ada lovelace"
    )
    assert "flow: Welcome aboard, Ada lovelace!" in reply.stdout, reply.stdout + reply.stderr
    assert wait_messages(client, contact, 2)


def test_a_flow_sid_naming_no_flow_is_a_warning(server: Server, tmp_path: Path) -> None:
    account = server.new_account("dangling")
    alone = tmp_path / "onboarding.json"  # without ask-name: FWcccc… stays as it is
    alone.write_text((EXAMPLES / "onboarding" / "onboarding.json").read_text())
    result = flowyard("import", str(alone), "--to", server.base_url, *creds(account))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"warning {FLOW_SID_PATH} flow_sid FWcccc" in result.stdout

    client = server.client(*account)
    (listed,) = client.studio.v2.flows.list()
    warnings = client.studio.v2.flows(listed.sid).fetch().warnings
    assert warnings == [
        {
            "message": "flow_sid FWcccccccccccccccccccccccccccccccc names no flow in this account",
            "property_path": FLOW_SID_PATH,
        }
    ]
    # Once the subflow exists, the next revision has no warning.
    definition = json.loads(alone.read_text())
    sub = client.studio.v2.flows.create(
        friendly_name="ask-name",
        status="published",
        definition=json.loads((EXAMPLES / "onboarding" / "ask-name.json").read_text()),
    )
    definition["states"][1]["properties"]["flow_sid"] = sub.sid
    updated = client.studio.v2.flows(listed.sid).update(status="draft", definition=definition)
    assert updated.warnings == []
