"""``flowyard inbound sms`` / ``call`` against a real ``flowyard serve``: signed webhooks, the
TwiML answer, the flow's replies from the outbox, a call driven through stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.test_transfer import EXAMPLES, ROOT, creds
from tests.conftest import Server


def inbound(
    server: Server, account: tuple[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("FLOWYARD_PUBLIC_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "flowyard",
            "inbound",
            *args,
            "--url",
            server.base_url,
            *creds(account),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env=env,
    )


def _flow(server: Server, account: tuple[str, str], path: Path) -> str:
    client = server.client(*account)
    definition = json.loads(path.read_text())
    return client.studio.v2.flows.create(
        friendly_name=path.stem, status="published", definition=definition
    ).sid


def test_sms_prints_twiml_and_the_flows_reply(server: Server) -> None:
    account = server.new_account("inbound-sms")
    sid = _flow(server, account, EXAMPLES / "appointment" / "appointment.json")
    result = inbound(server, account, "sms", sid, "--from", "+15550001111", "--body", "hi")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<Response" in result.stdout
    assert "flow: " in result.stdout


def test_call_through_stdin_hears_say_gather_say(server: Server) -> None:
    account = server.new_account("inbound-call")
    sid = _flow(server, account, EXAMPLES / "ivr" / "ivr.json")
    result = inbound(server, account, "call", sid, "--from", "+15550002222", stdin="1\n")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("caller hears:")]
    assert lines == [
        "caller hears: Thanks for calling Flowyard Bikes.",
        "caller hears: Press 1 or say hours for our opening hours. "
        "Press 2 or say agent to talk to someone.",
        "caller hears: We are open nine to five, Monday to Saturday.",
        "caller hears: Goodbye!",
    ]
    assert "call ended · execution FN" in result.stdout

    spoken = inbound(server, account, "call", sid, "--from", "+1555000333", "--speech", "hours")
    assert spoken.returncode == 0, spoken.stdout + spoken.stderr
    assert "We are open nine to five" in spoken.stdout

    hung_up = inbound(server, account, "call", sid, "--from", "+1555000444", stdin="hangup\n")
    assert hung_up.returncode == 0, hung_up.stdout + hung_up.stderr
    assert "We are open" not in hung_up.stdout and "call ended" in hung_up.stdout


def test_bad_credentials_and_missing_flow_are_one_line(server: Server) -> None:
    account = server.new_account("inbound-errors")
    sid = _flow(server, account, EXAMPLES / "ivr" / "ivr.json")
    wrong = (account[0], "0" * 32)
    result = inbound(server, wrong, "sms", sid, "--from", "+15550001111", "--body", "hi")
    assert result.returncode == 1
    assert result.stderr.startswith("error: the server refused: HTTP 401")
    assert len(result.stderr.strip().splitlines()) == 1
    elsewhere = ["--public-url", "https://flows.example.com"]  # not what the server checks
    result = inbound(server, account, "sms", sid, "--from", "+1555", "--body", "hi", *elsewhere)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: the webhook refused: HTTP 403 Invalid X-Twilio-Signature for this request"
    )
    missing = inbound(server, account, "call", "FW" + "0" * 32, "--from", "+15550001111")
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "HTTP 404" in missing.stderr
