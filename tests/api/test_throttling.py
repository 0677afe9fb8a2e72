"""Failed authentications are throttled per client address and per SID (REST and console).

The tests connect from 127.0.0.1, which uvicorn trusts as a proxy (``FORWARDED_ALLOW_IPS``), so
each test plays clients on other addresses with ``X-Forwarded-For``, as a proxy in front would.
They run on a server of their own with low limits (the shared one has them raised).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_auth import assert_401
from tests.conftest import Server, start_server
from tests.console.conftest import post_login

PER_ADDRESS = 8
PER_SID = 3
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def strict(server: Server) -> Iterator[Server]:
    """A second server on the same database with low limits."""
    srv, proc = start_server(
        server.database_url,
        server.backend,
        {
            "FLOWYARD_ACCOUNT_SID": server.account_sid,
            "FLOWYARD_AUTH_TOKEN": server.auth_token,
            "FLOWYARD_AUTH_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
            "FLOWYARD_AUTH_FAILURES_PER_SID": str(PER_SID),
        },
    )
    try:
        yield srv
    finally:
        proc.terminate()
        proc.wait(10)


def client_at(srv: Server) -> httpx.Client:
    """A client seen by the server on an address of its own."""
    return httpx.Client(base_url=srv.base_url, headers={"X-Forwarded-For": next(_addresses)})


def assert_429(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json() == {
        "code": 20429,
        "message": response.json()["message"],
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    return retry_after


def test_an_attacker_on_one_address_cannot_lock_out_the_owner_on_another(strict: Server) -> None:
    sid, token = strict.new_account()
    attacker, owner = client_at(strict), client_at(strict)
    for _ in range(PER_SID):
        assert_401(attacker.get("/v2/Flows", auth=(sid, "guess")))
    assert_429(attacker.get("/v2/Flows", auth=(sid, "guess")))
    # The right credential still works, from the owner's address and even from this one.
    assert owner.get("/v2/Flows", auth=(sid, token)).status_code == 200
    assert attacker.get("/v2/Flows", auth=(sid, token)).status_code == 200
    # More wrong guesses for this SID are 429 from anywhere.
    assert_429(owner.get("/v2/Flows", auth=(sid, "typo")))

    # An SID that does not exist is throttled the same way: no hint that it exists.
    nobody = "AC" + "d" * 32
    probe = client_at(strict)
    for _ in range(PER_SID):
        assert_401(probe.get("/v2/Flows", auth=(nobody, "guess")))
    assert_429(probe.get("/v2/Flows", auth=(nobody, "guess")))


def test_an_address_over_its_limit_is_refused_everything(strict: Server) -> None:
    sid, token = strict.new_account()
    noisy, other = client_at(strict), client_at(strict)
    for n in range(PER_ADDRESS):  # another SID each time: the per-address bucket runs out
        assert_401(noisy.get("/v2/Flows", auth=(f"AC{n:032x}", "guess")))
    assert_429(noisy.get("/v2/Flows", auth=(sid, "guess")))
    assert_429(noisy.get("/v2/Flows", auth=(sid, token)))
    assert_429(noisy.post("/v2/Flows", auth=(sid, token)))
    assert other.get("/v2/Flows", auth=(sid, token)).status_code == 200


def test_300_wrong_tokens_in_a_row(strict: Server) -> None:
    """The issue's measurement: 300 wrong tokens were all answered; now only the first few."""
    sid, _ = strict.new_account()
    attacker = client_at(strict)
    start = time.monotonic()
    codes = Counter(attacker.get("/v2/Flows", auth=(sid, f"t{n}")).status_code for n in range(300))
    elapsed = time.monotonic() - start
    assert codes == {401: PER_SID, 429: 300 - PER_SID}, codes
    print(f"300 wrong tokens in {elapsed:.2f} s: {dict(codes)}")


def test_console_sign_in_is_throttled_like_rest(strict: Server) -> None:
    sid, token = strict.new_account()
    attacker, owner = client_at(strict), client_at(strict)
    for _ in range(PER_SID):
        assert post_login(attacker, sid, "guess").status_code == 401
    refused = post_login(attacker, sid, "guess")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins" in refused.text and "20429" in refused.text
    assert post_login(owner, sid, token).status_code == 303

    noisy = client_at(strict)
    for n in range(PER_ADDRESS):
        assert post_login(noisy, f"AC{n:032x}", "guess").status_code == 401
    assert post_login(noisy, sid, token).status_code == 429
