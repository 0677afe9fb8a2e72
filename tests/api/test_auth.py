"""HTTP Basic with account SID + auth token or API key + secret; accounts are isolated."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from flowyard.store import accounts, create_db_engine
from tests.conftest import MINIMAL_DEFINITION, Server


def cli_key(server: Server, account_sid: str) -> tuple[str, str]:
    """``flowyard keys create --json`` against the server's database: (SK… sid, secret)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowyard",
            "keys",
            "create",
            "--account",
            account_sid,
            "--json",
            "--database-url",
            server.database_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = json.loads(result.stdout)
    return key["sid"], key["secret"]


def store_key(server: Server, account_sid: str) -> tuple[str, str]:
    db = create_db_engine(server.database_url)
    with db.begin() as conn:
        key = accounts.create_api_key(conn, account_sid, "from a test")
    db.dispose()
    return key


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {
        "code": 20003,
        "message": response.json()["message"],
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert response.headers["www-authenticate"].lower().startswith("basic")


# --- account credentials -----------------------------------------------------------------------


def test_wrong_credentials_are_20003(server: Server) -> None:
    sid, token = server.new_account()
    good = server.client(sid, token)
    flow = good.studio.v2.flows.create(
        friendly_name="mine", status="draft", definition=MINIMAL_DEFINITION
    )
    for user, password in (
        (sid, token + "x"),
        (sid, ""),
        (sid, token.upper()),
        ("AC" + "f" * 32, token),
    ):
        bad = server.client(user, password)
        for call in (
            lambda c=bad: c.studio.v2.flows(flow.sid).fetch(),
            lambda c=bad: c.studio.v2.flows.create(
                friendly_name="x", status="draft", definition=MINIMAL_DEFINITION
            ),
            lambda c=bad: c.studio.v2.flows(flow.sid).delete(),
            lambda c=bad: c.studio.v1.flows(flow.sid).fetch(),
        ):
            with pytest.raises(TwilioRestException) as excinfo:
                call()
            assert type(excinfo.value) is TwilioRestException
            assert (excinfo.value.status, excinfo.value.code) == (401, 20003)
        # A failing list is a bare TwilioException in twilio-python.
        with pytest.raises(TwilioException) as excinfo:
            bad.studio.v2.flows.list()
        assert not isinstance(excinfo.value, TwilioRestException)
        assert excinfo.value.args[1].status_code == 401
    # Nothing was created or deleted by the refused calls.
    assert [f.sid for f in good.studio.v2.flows.list()] == [flow.sid]


def test_malformed_authorization_headers(server: Server) -> None:
    sid, token = server.new_account()
    headers = [
        {},
        {"Authorization": ""},
        {"Authorization": "Basic"},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + base64.b64encode(f"{sid}{token}".encode()).decode()},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode()},
        {"Authorization": basic(sid, token)[:-2]},
        {"Authorization": "Bearer " + token},
        {"Authorization": "Digest username=" + sid},
    ]
    with httpx.Client(base_url=server.base_url) as http:
        for extra in headers:
            for method, path in (
                ("GET", "/v2/Flows"),
                ("POST", "/v2/Flows"),
                ("POST", "/v2/Flows/Validate"),
                ("GET", "/v1/Flows"),
            ):
                assert_401(http.request(method, path, headers=extra))
        # The scheme name is case-insensitive (RFC 7617); the credentials are not.
        ok = http.get(
            "/v2/Flows", headers={"Authorization": basic(sid, token).replace("Basic", "basic")}
        )
        assert ok.status_code == 200
        assert_401(http.get("/v2/Flows", headers={"Authorization": basic(sid.lower(), token)}))


def test_only_the_first_colon_splits_user_and_password(server: Server) -> None:
    """``user:pass`` splits at the first colon; a colon more makes either part wrong."""
    sid, token = server.new_account()
    with httpx.Client(base_url=server.base_url) as http:
        assert_401(http.get("/v2/Flows", headers={"Authorization": basic(sid, token + ":")}))
        assert_401(http.get("/v2/Flows", headers={"Authorization": basic(sid + ":" + token, "")}))


# --- API keys ----------------------------------------------------------------------------------


def test_api_key_from_the_cli_acts_for_its_account(server: Server) -> None:
    sid, token = server.new_account()
    key_sid, secret = cli_key(server, sid)
    assert key_sid.startswith("SK") and len(key_sid) == 34
    by_key = server.client(key_sid, secret, sid)
    flow = by_key.studio.v2.flows.create(
        friendly_name="made with a key", status="draft", definition=MINIMAL_DEFINITION
    )
    assert flow.account_sid == sid
    assert flow.webhook_url.endswith(f"/v1/Accounts/{sid}/Flows/{flow.sid}")

    by_token = server.client(sid, token)
    assert by_token.studio.v2.flows(flow.sid).fetch().friendly_name == "made with a key"
    assert [f.sid for f in by_key.studio.v2.flows.list()] == [flow.sid]
    assert by_key.studio.v1.flows(flow.sid).fetch().account_sid == sid
    by_key.studio.v2.flows(flow.sid).update(status="published")
    assert by_token.studio.v2.flows(flow.sid).fetch().revision == 2
    assert by_key.studio.v2.flows(flow.sid).delete() is True
    assert by_token.studio.v2.flows.list() == []


def test_api_key_credentials_are_checked(server: Server) -> None:
    sid, token = server.new_account()
    key_sid, secret = store_key(server, sid)
    assert server.client(key_sid, secret).studio.v2.flows.list() == []
    for user, password in (
        (key_sid, secret + "x"),
        (key_sid, token),  # the account's token is not the key's secret
        (sid, secret),  # nor the other way round
        ("SK" + "0" * 32, secret),
    ):
        with pytest.raises(TwilioRestException) as excinfo:
            server.client(user, password).studio.v2.flows.create(
                friendly_name="x", status="draft", definition=MINIMAL_DEFINITION
            )
        assert (excinfo.value.status, excinfo.value.code) == (401, 20003), user
    assert server.client(sid, token).studio.v2.flows.list() == []


def test_several_keys_per_account(server: Server) -> None:
    sid, _ = server.new_account()
    first = server.client(*store_key(server, sid))
    second = server.client(*store_key(server, sid))
    flow = first.studio.v2.flows.create(
        friendly_name="shared", status="draft", definition=MINIMAL_DEFINITION
    )
    assert second.studio.v2.flows(flow.sid).fetch().sid == flow.sid


# --- isolation ---------------------------------------------------------------------------------


def test_accounts_cannot_see_each_others_flows(server: Server) -> None:
    owner = server.new_client()
    other = server.new_client()
    other_key = server.client(*store_key(server, other.username))
    flow = owner.studio.v2.flows.create(
        friendly_name="private", status="published", definition=MINIMAL_DEFINITION
    )
    owner.studio.v2.flows(flow.sid).test_users().update(test_users=["client:owner"])
    mine = other.studio.v2.flows.create(
        friendly_name="theirs", status="draft", definition=MINIMAL_DEFINITION
    )

    for intruder in (other, other_key):
        v2 = intruder.studio.v2.flows(flow.sid)
        for name, call in {
            "fetch": v2.fetch,
            "update": lambda v2=v2: v2.update(status="draft", friendly_name="pwned"),
            "delete": v2.delete,
            "revision": lambda v2=v2: v2.revisions(1).fetch(),
            "latest published": lambda v2=v2: v2.revisions("LatestPublished").fetch(),
            "test users": lambda v2=v2: v2.test_users().fetch(),
            "set test users": lambda v2=v2: v2.test_users().update(test_users=["client:x"]),
            "v1 fetch": intruder.studio.v1.flows(flow.sid).fetch,
            "v1 delete": intruder.studio.v1.flows(flow.sid).delete,
        }.items():
            with pytest.raises(TwilioRestException) as excinfo:
                call()
            assert (excinfo.value.status, excinfo.value.code) == (404, 20404), name
            assert "private" not in excinfo.value.msg
        with pytest.raises(TwilioException) as excinfo:
            v2.revisions.list()
        assert excinfo.value.args[1].status_code == 404
        assert [f.sid for f in intruder.studio.v2.flows.list()] == [mine.sid]
        assert [f.sid for f in intruder.studio.v1.flows.list()] == [mine.sid]

    # The owner's flow is exactly as it was.
    fetched = owner.studio.v2.flows(flow.sid).fetch()
    assert (fetched.friendly_name, fetched.revision, fetched.status) == ("private", 1, "published")
    assert owner.studio.v2.flows(flow.sid).test_users().fetch().test_users == ["client:owner"]
    assert [f.sid for f in owner.studio.v2.flows.list()] == [flow.sid]
    # And the owner cannot reach the other account's flow either.
    with pytest.raises(TwilioRestException) as excinfo:
        owner.studio.v2.flows(mine.sid).fetch()
    assert excinfo.value.status == 404


def test_other_accounts_flow_answers_exactly_like_an_unknown_one(server: Server) -> None:
    """No 403 and no hint that the SID exists elsewhere."""
    owner = server.new_client()
    other_sid, other_token = server.new_account()
    flow = owner.studio.v2.flows.create(
        friendly_name="private", status="draft", definition=MINIMAL_DEFINITION
    )
    unknown = "FW" + "0" * 32
    with httpx.Client(base_url=server.base_url, auth=(other_sid, other_token)) as http:
        for suffix in ("", "/Revisions", "/Revisions/1", "/TestUsers"):
            theirs = http.get(f"/v2/Flows/{flow.sid}{suffix}")
            nobodys = http.get(f"/v2/Flows/{unknown}{suffix}")
            assert theirs.status_code == nobodys.status_code == 404
            assert theirs.json()["message"].replace(flow.sid, unknown) == nobodys.json()["message"]
        assert http.get(f"/v1/Flows/{flow.sid}").status_code == 404
