"""``flowyard import`` / ``export`` (and ``diff`` of stored revisions) against a real
``flowyard serve``, with two accounts standing in for Twilio and a local server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from flowyard.engine.diff import diff_definitions
from tests.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FILES = [
    EXAMPLES / "appointment" / "appointment.json",
    EXAMPLES / "ivr" / "ivr.json",
    EXAMPLES / "onboarding" / "onboarding.json",
    EXAMPLES / "onboarding" / "ask-name.json",
]
ARROW = re.compile(r"^(.+) -> (FW[0-9a-f]{32})$", re.M)


def flowyard(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("TWILIO_ACCOUNT_SID", None)
    env.pop("TWILIO_AUTH_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "flowyard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def creds(account: tuple[str, str]) -> list[str]:
    return ["--account-sid", account[0], "--auth-token", account[1]]


def test_round_trip_between_two_accounts(server: Server, tmp_path: Path) -> None:
    source, target = server.new_account("studio"), server.new_account("laptop")
    url = server.base_url
    imported = flowyard("import", *map(str, FILES), "--to", url, *creds(source))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    sids = dict(ARROW.findall(imported.stdout))
    assert len(sids) == 4

    out = tmp_path / "exported"
    exported = flowyard("export", "--from", url, "--out", str(out), *creds(source))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    files = sorted(out.glob("*.FW*.json"))
    assert {f.name for f in files} == {f"{Path(f).stem}.{sid}.json" for f, sid in sids.items()}
    resource = json.loads((out / f"appointment.{sids[str(FILES[0])]}.json").read_text())
    assert resource["friendly_name"] == "appointment"
    assert resource["definition"] == json.loads(FILES[0].read_text())

    back = flowyard("import", *map(str, files), "--to", url, *creds(target))
    assert back.returncode == 0, back.stdout + back.stderr
    client = server.client(*target)
    flows = {f.friendly_name: f for f in client.studio.v2.flows.list()}
    assert set(flows) == {"appointment", "ivr", "onboarding", "ask-name"}
    for file in FILES:
        stored = client.studio.v2.flows(flows[file.stem].sid).fetch().definition
        expected = json.loads(file.read_text())
        if file.stem == "onboarding":  # its subflow is remapped to the one imported with it
            expected["states"][1]["properties"]["flow_sid"] = flows["ask-name"].sid
        assert diff_definitions(expected, stored).is_empty

    # An exported flow is tested locally as it is.
    (tmp_path / "t.test.json").write_text(
        json.dumps(
            {
                "flow": f"exported/ivr.{sids[str(FILES[1])]}.json",
                "trigger": {"call": {}},
                "steps": [{"digits": "1"}, {"expect": {"path": ["Hours"]}}],
            }
        )
    )
    tested = flowyard("test", "t.test.json", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout

    one = flowyard(
        "export", sids[str(FILES[1])], "--from", url, "--out", str(tmp_path / "one"), *creds(source)
    )
    assert one.returncode == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == [f"ivr.{sids[str(FILES[1])]}.json"]


def test_refused_definitions_show_property_paths(server: Server, tmp_path: Path) -> None:
    account = server.new_account("strict")
    broken = json.loads(FILES[0].read_text())
    del broken["states"][8]["properties"]["to"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    result = flowyard("import", str(bad), str(FILES[1]), "--to", server.base_url, *creds(account))
    assert result.returncode == 1
    assert f"{bad}: refused" in result.stdout
    assert "#/states/8/properties/to" in result.stdout
    assert re.search(r"ivr\.json -> FW[0-9a-f]{32}", result.stdout)


def test_diff_of_two_stored_revisions(server: Server) -> None:
    account = server.new_account("revisions")
    client = server.client(*account)
    definition = json.loads(FILES[0].read_text())
    flow = client.studio.v2.flows.create(
        friendly_name="appointment", status="published", definition=definition
    )
    definition["states"][6]["properties"]["body"] = "Done: {{flow.variables.booking_id}}"
    client.studio.v2.flows(flow.sid).update(status="published", definition=definition)
    result = flowyard(
        "diff", f"{flow.sid}@1", f"{flow.sid}@2", "--server", server.base_url, *creds(account)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "~ Confirm (send-message)" in result.stdout
    assert '"Done: {{flow.variables.booking_id}}"' in result.stdout
