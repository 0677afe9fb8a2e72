"""The ``conversation`` trigger of the testing tools: ``FlowRun.conversation``, flow-test
files, and ``flowyard chat --conversation``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flowyard.testing import CONVERSATION, load_flow
from tests.flows import flow, go, match, state

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}

BOT = flow(
    state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage", "route"), go("timeout")],
        body="Hi {{trigger.conversation.From}}, sales or support?",
        timeout="3600",
    ),
    state(
        "route",
        "split-based-on",
        [go("noMatch", "ask"), match("done", "contains", "sales", "{{widgets.ask.inbound.Body}}")],
        input="{{widgets.ask.inbound.Body}}",
    ),
    state("done", "send-message", [go("sent"), go("failed")], body="Sales it is"),
    conversation="ask",
)


def _bot(tmp_path: Path) -> Path:
    path = tmp_path / "bot.json"
    path.write_text(json.dumps(BOT))
    return path


def test_flowrun_conversation_posts_into_it_and_replies_resume(tmp_path: Path) -> None:
    run = load_flow(_bot(tmp_path)).conversation("hi", author="+15550005555")
    assert run.context["trigger"]["conversation"]["Body"] == "hi"
    assert run.context["flow"]["channel"]["address"] == CONVERSATION
    (asked,) = run.calls
    assert asked.request["conversation_sid"] == CONVERSATION
    assert run.sent[0].body == "Hi +15550005555, sales or support?"
    run.reply("sales")
    assert run.status == "ended"
    assert run.widget("ask")["inbound"]["ConversationSid"] == CONVERSATION
    assert run.widget("done")["outbound"]["Index"] == 3  # hi, ask, sales, done
    assert run.path == ["Trigger", "ask", "route", "done"]


def test_a_flow_test_file_starts_from_a_conversation(tmp_path: Path) -> None:
    _bot(tmp_path)
    suite = {
        "flow": "bot.json",
        "tests": [
            {
                "name": "sales",
                "trigger": {"conversation": {"body": "hello", "author": "+15550006666"}},
                "steps": [
                    {"expect": {"sent": "Hi +15550006666, sales or support?"}},
                    {"reply": "sales"},
                    {"expect": {"sent": "Sales it is", "status": "ended"}},
                ],
            },
            {"name": "short form", "trigger": {"conversation": "hello"}, "steps": []},
        ],
    }
    (tmp_path / "bot.test.json").write_text(json.dumps(suite))
    result = subprocess.run(
        [sys.executable, "-m", "flowyard", "test", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 0 failed" in result.stdout


def test_chat_with_a_conversation(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowyard", "chat", str(_bot(tmp_path)), "--conversation"],
        input="hello\nsales\n", capture_output=True, text=True, timeout=60, cwd=ROOT, env=ENV,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Trigger --incomingConversationMessage--> ask" in out
    assert "Hi +15550001111, sales or support?" in out
    assert "Sales it is" in out
    assert "path: Trigger > ask > route > done" in out
