"""The ``flowyard`` command line: help, accounts and API keys, run as a user runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_DEFINITION, Server

# The installed console script (pyproject [project.scripts]); ``python -m flowyard`` otherwise.
SCRIPT = shutil.which("flowyard")
FLOWYARD = [SCRIPT] if SCRIPT else [sys.executable, "-m", "flowyard"]
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
KEY_SID = re.compile(r"SK[0-9a-f]{32}")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLOWYARD, *args],
        capture_output=True,
        text=True,
        timeout=60,
        # Wide, plain output so rich neither wraps nor colours the help text.
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **(env or {})},
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = run(*args, env=env)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


# --- help --------------------------------------------------------------------------------------


HELP = {
    (): ["serve", "accounts", "keys"],
    ("serve",): [
        "--host",
        "--port",
        "--database-url",
        "--workers",
        "--log-format",
        "--log-level",
        "--no-access-log",
    ],
    ("accounts",): ["create", "list", "rotate-token"],
    ("accounts", "create"): ["--friendly-name", "--json", "--database-url"],
    ("accounts", "list"): ["--json", "--database-url"],
    ("accounts", "rotate-token"): ["AC…", "--json", "--database-url"],
    ("keys",): ["create", "list", "revoke"],
    ("keys", "create"): ["--account", "--friendly-name", "--json", "--database-url"],
    ("keys", "list"): ["--account", "--json", "--database-url"],
    ("keys", "revoke"): ["SK…", "--database-url"],
}


@pytest.mark.parametrize("command", list(HELP), ids=lambda c: " ".join(c) or "flowyard")
def test_help(command: tuple[str, ...]) -> None:
    out = ok(*command, "--help")
    assert "Usage:" in out
    for word in HELP[command]:
        assert word in out, (command, word)


def test_unknown_command_fails_with_usage() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "frobnicate" in result.stderr or "frobnicate" in result.stdout


# --- accounts ----------------------------------------------------------------------------------


def test_accounts_create_and_list(database_url: str) -> None:
    first = json.loads(
        ok(
            "accounts",
            "create",
            "--friendly-name",
            "Team A",
            "--json",
            "--database-url",
            database_url,
        )
    )
    assert ACCOUNT_SID.fullmatch(first["sid"])
    assert first["auth_token"]
    assert first["friendly_name"] == "Team A"

    text = ok("accounts", "create", "--database-url", database_url)
    sid = ACCOUNT_SID.search(text)
    assert sid is not None
    assert sid.group() != first["sid"]
    assert "token" in text.lower()

    listed = json.loads(ok("accounts", "list", "--json", "--database-url", database_url))
    assert [a["sid"] for a in listed] == [first["sid"], sid.group()]
    assert listed[0]["friendly_name"] == "Team A"
    assert all("auth_token" not in a for a in listed)

    table = ok("accounts", "list", "--database-url", database_url)
    assert first["sid"] in table and sid.group() in table
    assert "Team A" in table
    assert first["auth_token"] not in table


def test_database_url_from_the_environment(database_url: str) -> None:
    env = {"FLOWYARD_DATABASE_URL": database_url}
    created = json.loads(ok("accounts", "create", "--json", env=env))
    listed = json.loads(ok("accounts", "list", "--json", "--database-url", database_url))
    assert [a["sid"] for a in listed] == [created["sid"]]


# --- keys --------------------------------------------------------------------------------------


def test_keys_create(database_url: str) -> None:
    account = json.loads(ok("accounts", "create", "--json", "--database-url", database_url))
    key = json.loads(
        ok("keys", "create", "--account", account["sid"], "--json", "--database-url", database_url)
    )
    assert KEY_SID.fullmatch(key["sid"])
    assert key["secret"]
    assert key["account_sid"] == account["sid"]

    text = ok("keys", "create", "--account", account["sid"], "--database-url", database_url)
    other = KEY_SID.search(text)
    assert other is not None and other.group() != key["sid"]


def test_read_only_commands_do_not_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere" / "flowyard.db"
    for command in (("accounts", "list"), ("keys", "list", "--account", "AC" + "0" * 32)):
        result = run(*command, "--database-url", f"sqlite:///{missing}")
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"error: no database at {missing} (start `flowyard serve` once, or pass --database-url)"
        )
    assert not missing.exists() and not missing.parent.exists()


def test_keys_create_refuses_an_unknown_account(database_url: str) -> None:
    ok("accounts", "create", "--database-url", database_url)
    result = run(
        "keys", "create", "--account", "AC" + "0" * 32, "--json", "--database-url", database_url
    )
    assert result.returncode == 1
    assert "AC" + "0" * 32 in result.stderr
    assert result.stdout == ""


def test_keys_create_requires_an_account(database_url: str) -> None:
    result = run("keys", "create", "--json", "--database-url", database_url)
    assert result.returncode == 2
    assert "--account" in result.stderr


# --- against a running server ------------------------------------------------------------------


def test_cli_credentials_work_against_the_server(server: Server) -> None:
    account = json.loads(
        ok(
            "accounts",
            "create",
            "--friendly-name",
            "cli",
            "--json",
            "--database-url",
            server.database_url,
        )
    )
    by_token = server.client(account["sid"], account["auth_token"])
    flow = by_token.studio.v2.flows.create(
        friendly_name="from the cli account", status="draft", definition=MINIMAL_DEFINITION
    )
    assert flow.account_sid == account["sid"]

    key = json.loads(
        ok(
            "keys",
            "create",
            "--account",
            account["sid"],
            "--json",
            "--database-url",
            server.database_url,
        )
    )
    by_key = server.client(key["sid"], key["secret"], account["sid"])
    assert [f.sid for f in by_key.studio.v2.flows.list()] == [flow.sid]


def test_help_shows_flags_without_a_value() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "flowyard", "chat", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    voice = next(line for line in result.stdout.splitlines() if "--voice" in line)
    assert "<bool>" not in result.stdout and "Start with an inbound call." in voice
    assert "<path>" in result.stdout  # options that take a value still say which
