"""``flowyard chat``: sessions driven through stdin and through a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
APPOINTMENT = EXAMPLES / "appointment" / "appointment.json"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
FLOWYARD = [sys.executable, "-m", "flowyard"]


def chat(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLOWYARD, "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=ENV,
    )


def mocks_file(tmp_path: Path) -> Path:
    path = tmp_path / "mocks.json"
    mocks = {
        "Fetch_Slot": [{"status": 200, "body": {"slot": "Fri 16:00"}}],
        "Book": [{"status": 201, "body": {"id": "B-99"}}],
    }
    path.write_text(json.dumps(mocks))
    return path


def test_stdin_session_shows_messages_path_and_context(tmp_path: Path) -> None:
    result = chat(
        str(APPOINTMENT),
        "--mocks",
        str(mocks_file(tmp_path)),
        "--offline",
        stdin="hello\n/context widgets.Fetch_Slot.parsed\nyes\n",
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "flow: Hi there! The next slot is Fri 16:00. Reply YES to book it." in out
    assert "Trigger --incomingMessage--> Fetch_Slot" in out
    assert '"slot": "Fri 16:00"' in out  # the context explorer
    assert "flow: Booked! Your reference is B-99." in out
    assert "execution ended (FLOW_END)" in out
    assert "path: Trigger > Fetch_Slot > Ask > Check_Answer > Book > Remember_Booking" in out


def test_a_failing_widget_prints_the_engine_error() -> None:
    result = chat(str(APPOINTMENT), "--offline", stdin="hello\n")  # no mocks: no network
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Fetch_Slot --failed--> Sorry" in out
    assert "engine: http_failed at Fetch_Slot: Fetch_Slot: no mock for this http call" in out


def test_rest_parameters_and_advance_fire_the_timeout(tmp_path: Path) -> None:
    result = chat(
        str(APPOINTMENT),
        "--param",
        "name=Ada",
        "--to",
        "+15550004444",
        "--mocks",
        str(mocks_file(tmp_path)),
        stdin="/advance 60\n/timeout\n",
    )
    out = result.stdout
    assert "flow: Hi Ada! The next slot is Fri 16:00." in out
    assert "Ask --timeout--> Reminder" in out
    assert out.index("/timeout") < out.index("Ask --timeout--> Reminder")
    assert "flow: We did not hear back, so the slot was released." in out


def test_recorded_session_replays_as_a_flow_test(tmp_path: Path) -> None:
    record = tmp_path / "session.test.json"
    chat(
        str(APPOINTMENT),
        "--mocks",
        str(mocks_file(tmp_path)),
        "--record",
        str(record),
        stdin="hi\nYES\n",
    )
    test = json.loads(record.read_text())
    assert test["trigger"] == {
        "message": {"from": "+15550001111", "to": "+15559990000", "body": "hi"}
    }
    assert test["mocks"]["Book"] == [{"status": 201, "body": {"id": "B-99"}}]
    assert {"reply": "YES"} in test["steps"]
    assert test["steps"][-1]["expect"]["sent"] == "Booked! Your reference is B-99."
    replay = subprocess.run(
        [*FLOWYARD, "test", str(record)], capture_output=True, text=True, env=ENV, cwd=tmp_path
    )
    assert replay.returncode == 0, replay.stdout
    assert "1 passed, 0 failed" in replay.stdout


def test_voice_session_digits_and_hangup(tmp_path: Path) -> None:
    ivr = str(EXAMPLES / "ivr" / "ivr.json")
    out = chat(ivr, "--voice", stdin="hours\n").stdout
    assert "caller hears: Thanks for calling Flowyard Bikes." in out
    assert "Route --match--> Hours" in out
    assert "caller hears: We are open nine to five, Monday to Saturday." in out

    record = tmp_path / "call.test.json"
    out = chat(ivr, "--voice", "--record", str(record), stdin="/silence\n/hangup\n").stdout
    assert "Menu --timeout--> Retry_Or_Bye" in out
    assert "execution ended (ENDED)" in out
    steps = json.loads(record.read_text())["steps"]
    assert {"silence": True} in steps and {"hangup": True} in steps
    replay = subprocess.run(
        [*FLOWYARD, "test", str(record)], capture_output=True, text=True, env=ENV, cwd=tmp_path
    )
    assert replay.returncode == 0, replay.stdout


def _read_until(
    fd: int, marker: bytes, seen: bytearray, start: int = 0, timeout: float = 20
) -> None:
    """Read the terminal into ``seen`` until ``marker`` appears after ``start``."""
    deadline = time.monotonic() + timeout
    while marker not in seen[start:]:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {marker!r} in {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen.extend(chunk)


def test_session_in_a_pseudo_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*FLOWYARD, "chat", str(APPOINTMENT), "--mocks", str(mocks_file(tmp_path))],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env={**ENV, "XDG_DATA_HOME": str(tmp_path)},  # the history file goes here
    )
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"you> ", seen)
        os.write(master, b"hi there\n")
        _read_until(master, b"Reply YES to book it.", seen)
        _read_until(master, b"you> ", seen, seen.index(b"Reply YES"))
        os.write(master, b"/vars\n")
        os.write(master, b"y\n")
        _read_until(master, b"FLOW_END", seen)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "flow: Booked! Your reference is B-99." in text
    assert "hi there" in text  # the terminal echoed what was typed


def test_commands_before_the_first_message_do_not_start_the_flow(tmp_path: Path) -> None:
    record = tmp_path / "session.test.json"
    result = chat(
        str(APPOINTMENT),
        "--mocks",
        str(mocks_file(tmp_path)),
        "--record",
        str(record),
        stdin="/help\n/vars\n/restart\nhi\nYES\n",
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "/restart (a fresh execution of the flow)" in out  # /help answered
    assert "/vars: the flow has not started; your first message starts it" in out
    assert "nothing to restart: the flow has not started" in out
    assert out.index("nothing to restart") < out.index("Trigger --incomingMessage-->")
    test = json.loads(record.read_text())
    assert test["trigger"]["message"]["body"] == "hi"  # not "/help"
    assert not any("/" in str(step.get("reply", "")) for step in test["steps"])


def test_quit_before_the_first_message_records_nothing(tmp_path: Path) -> None:
    record = tmp_path / "none.test.json"
    result = chat(str(APPOINTMENT), "--record", str(record), stdin="/help\n/quit\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Trigger" not in result.stdout and not record.exists()


def test_restart_starts_a_fresh_execution_and_a_new_recorded_test(tmp_path: Path) -> None:
    record = tmp_path / "two.test.json"
    result = chat(
        str(APPOINTMENT),
        "--mocks",
        str(mocks_file(tmp_path)),
        "--record",
        str(record),
        stdin="hi\n/restart\nhello again\nYES\n",
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "restarted: a fresh execution of the flow" in out
    assert out.count("Trigger --incomingMessage--> Fetch_Slot") == 2
    assert "flow: Booked! Your reference is B-99." in out
    tests = json.loads(record.read_text())["tests"]
    assert [t["trigger"]["message"]["body"] for t in tests] == ["hi", "hello again"]
    assert tests[0]["name"].endswith("(1)") and {"reply": "YES"} in tests[1]["steps"]
    assert "2 tests" in out
    replay = subprocess.run(
        [*FLOWYARD, "test", str(record)], capture_output=True, text=True, env=ENV, cwd=tmp_path
    )
    assert replay.returncode == 0, replay.stdout
    assert "2 passed, 0 failed" in replay.stdout


def test_mocks_naming_no_widget_are_one_line_errors(tmp_path: Path) -> None:
    mocks = tmp_path / "typo.json"
    mocks.write_text(json.dumps({"Fetch_Slto": [{"status": 200}]}))
    result = chat(str(APPOINTMENT), "--mocks", str(mocks), stdin="hi\n")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {mocks}: mocks name 'Fetch_Slto', which is no widget of appointment.json; "
        "did you mean Fetch_Slot?"
    )


def test_line_editing_and_history_in_a_terminal(tmp_path: Path) -> None:
    def session(keys: list[bytes], until: bytes) -> str:
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [*FLOWYARD, "chat", str(APPOINTMENT), "--mocks", str(mocks_file(tmp_path))],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env={**ENV, "XDG_DATA_HOME": str(tmp_path), "TERM": "xterm"},
        )
        os.close(slave)
        seen = bytearray()
        mark = 0
        try:
            for key in keys:
                _read_until(master, b"you>", seen, mark)  # a prompt after the last keys
                mark = len(seen)
                os.write(master, key)
            _read_until(master, until, seen)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
        return seen.decode(errors="replace")

    # Editing: "hXi", then left arrow and backspace remove the X.
    first = session([b"hXi\x1b[D\x7f\r", b"/quit\r"], b"execution")
    assert "^[[" not in first
    history = (tmp_path / "flowyard" / "chat_history").read_text()
    assert "hi" in history.splitlines() and "hXi" not in history
    # History: the up arrow brings back the last line of the last session (/quit), twice up
    # the one before it ("hi"), which starts the flow.
    second = session([b"\x1b[A\x1b[A\r", b"yes\r"], b"FLOW_END")
    assert "Booked! Your reference is B-99." in second
