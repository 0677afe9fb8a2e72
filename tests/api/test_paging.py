"""List paging: PageSize/Page/PageToken, meta URLs on the client's host, keyset stability."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.conftest import MINIMAL_DEFINITION, Server

META_KEYS = {
    "page",
    "page_size",
    "first_page_url",
    "previous_page_url",
    "url",
    "next_page_url",
    "key",
}


class RecordingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, remembering the URL and query of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, params: Any = None, *args: Any, **kwargs: Any):
        self.requests.append((method, url, dict(params or {})))
        return super().request(method, url, params, *args, **kwargs)


@pytest.fixture
def account(server: Server) -> tuple[str, str]:
    return server.new_account("paging")


@pytest.fixture
def recorded(server: Server, account: tuple[str, str]) -> tuple[Client, RecordingHttpClient]:
    """An SDK client on a fresh account whose requests are recorded."""
    recorder = RecordingHttpClient()
    client = Client(*account, http_client=recorder)
    client.studio.base_url = server.base_url
    return client, recorder


def make_flows(client: Client, count: int) -> list[str]:
    return [
        client.studio.v2.flows.create(
            friendly_name=f"flow {i:03d}", status="draft", definition=MINIMAL_DEFINITION
        ).sid
        for i in range(count)
    ]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def sids(page: Any) -> list[str]:
    return [record.sid for record in page]


# --- the SDK's list() and page() ---------------------------------------------------------------


def test_list_follows_next_page_url_across_pages(
    server: Server, recorded: tuple[Client, RecordingHttpClient]
) -> None:
    client, recorder = recorded
    created = make_flows(client, 5)
    recorder.requests.clear()

    assert [f.sid for f in client.studio.v2.flows.list(page_size=2)] == created

    urls = [url for method, url, _ in recorder.requests if method == "GET"]
    assert len(urls) == 3
    assert urls[0] == f"{server.base_url}/v2/Flows"
    assert recorder.requests[0][2] == {"PageSize": 2}
    for url in urls[1:]:
        # Later pages are the server's next_page_url, followed verbatim.
        assert url.startswith(f"{server.base_url}/v2/Flows?")
        query = query_of(url)
        assert query["PageSize"] == ["2"]
        assert query["PageToken"][0]
    assert [query_of(u)["Page"] for u in urls[1:]] == [["1"], ["2"]]

    # A limit stops reading as soon as it is reached.
    recorder.requests.clear()
    assert [f.sid for f in client.studio.v2.flows.list(limit=3, page_size=2)] == created[:3]
    assert len(recorder.requests) == 2
    assert [f.sid for f in client.studio.v2.flows.stream(page_size=4)] == created


def test_page_next_and_previous(recorded: tuple[Client, RecordingHttpClient]) -> None:
    client, _ = recorded
    created = make_flows(client, 5)
    flows = client.studio.v2.flows

    first = flows.page(page_size=2)
    assert sids(first) == created[:2]
    assert first.previous_page_url is None
    assert first.previous_page() is None

    second = first.next_page()
    assert sids(second) == created[2:4]
    assert query_of(second.next_page_url)["Page"] == ["2"]

    third = second.next_page()
    assert sids(third) == created[4:]
    assert third.next_page_url is None
    assert third.next_page() is None

    back = third.previous_page()
    assert sids(back) == created[2:4]
    assert back.next_page_url is not None
    again = back.previous_page()
    assert sids(again) == created[:2]
    assert again.previous_page_url is None
    assert sids(again.next_page()) == created[2:4]


def test_page_token_round_trips(
    server: Server, recorded: tuple[Client, RecordingHttpClient], account: tuple[str, str]
) -> None:
    client, _ = recorded
    created = make_flows(client, 5)
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        first = http.get("/v2/Flows", params={"PageSize": 2}).json()
        next_url = first["meta"]["next_page_url"]
        second = http.get(next_url).json()
        # The page a token leads to names itself with that same URL.
        assert second["meta"]["url"] == next_url
        assert second["meta"]["page"] == 1
        assert second["meta"]["page_size"] == 2
        assert [f["sid"] for f in second["flows"]] == created[2:4]
        # Tokens are stable: asking again gives the same page.
        assert http.get(next_url).json() == second

    query = query_of(next_url)
    token = query["PageToken"][0]
    by_token = client.studio.v2.flows.page(page_token=token, page_number=1, page_size=2)
    assert sids(by_token) == created[2:4]
    assert sids(client.studio.v2.flows.get_page(next_url)) == created[2:4]
    previous = second["meta"]["previous_page_url"]
    assert sids(client.studio.v2.flows.get_page(previous)) == created[:2]


def test_meta_shape(server: Server, recorded: tuple[Client, RecordingHttpClient], account) -> None:
    client, _ = recorded
    make_flows(client, 3)
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        body = http.get("/v2/Flows", params={"PageSize": 2}).json()
        last = http.get(body["meta"]["next_page_url"]).json()
    meta = body["meta"]
    assert set(body) == {"flows", "meta"}
    assert set(meta) == META_KEYS
    assert meta["key"] == "flows"
    assert meta["page"] == 0
    assert meta["page_size"] == 2
    assert meta["first_page_url"] == f"{server.base_url}/v2/Flows?PageSize=2&Page=0"
    assert meta["url"] == f"{server.base_url}/v2/Flows?PageSize=2&Page=0"
    assert meta["previous_page_url"] is None
    assert meta["next_page_url"].startswith(f"{server.base_url}/v2/Flows?PageSize=2&Page=1&")
    assert last["meta"]["first_page_url"] == meta["first_page_url"]
    assert last["meta"]["next_page_url"] is None
    assert last["meta"]["previous_page_url"].startswith(
        f"{server.base_url}/v2/Flows?PageSize=2&Page=0&"
    )


# --- hosts -------------------------------------------------------------------------------------


def test_next_page_url_is_on_the_host_the_client_used(
    server: Server, account: tuple[str, str]
) -> None:
    port = urlsplit(server.base_url).port
    client = Client(*account)
    client.studio.base_url = f"http://localhost:{port}"
    created = make_flows(client, 3)
    page = client.studio.v2.flows.page(page_size=2)
    assert page.next_page_url.startswith(f"http://localhost:{port}/v2/Flows?")
    assert [f.sid for f in client.studio.v2.flows.list(page_size=2)] == created

    # Whatever Host the request carried is where every absolute URL points.
    host = "studio.flowyard.test:8443"
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        body = http.get("/v2/Flows", params={"PageSize": 2}, headers={"Host": host}).json()
        fetched = http.get(f"/v2/Flows/{created[0]}", headers={"Host": host}).json()
    origin = f"http://{host}/"
    meta = body["meta"]
    for url in (meta["url"], meta["first_page_url"], meta["next_page_url"]):
        assert url.startswith(origin + "v2/Flows?"), url
    for flow in [*body["flows"], fetched]:
        assert flow["url"].startswith(origin)
        assert flow["webhook_url"].startswith(origin + "v1/Accounts/")
        assert all(link.startswith(origin) for link in flow["links"].values())


# --- page size ---------------------------------------------------------------------------------


def test_default_page_size_is_50(
    server: Server, recorded: tuple[Client, RecordingHttpClient], account
) -> None:
    client, _ = recorded
    created = make_flows(client, 51)
    page = client.studio.v2.flows.page()
    assert sids(page) == created[:50]
    assert query_of(page.next_page_url)["PageSize"] == ["50"]
    assert sids(page.next_page()) == created[50:]
    assert [f.sid for f in client.studio.v2.flows.list()] == created
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        assert http.get("/v2/Flows").json()["meta"]["page_size"] == 50


def test_page_size_is_clamped_at_1000(
    server: Server, recorded: tuple[Client, RecordingHttpClient], account
) -> None:
    client, recorder = recorded
    created = make_flows(client, 2)
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        for size in (1000, 1001, 5000):
            meta = http.get("/v2/Flows", params={"PageSize": size}).json()["meta"]
            assert meta["page_size"] == 1000
            assert query_of(meta["url"])["PageSize"] == ["1000"]
    # The SDK sends whatever limit it was given (no client-side clamp since 2017).
    recorder.requests.clear()
    assert [f.sid for f in client.studio.v2.flows.list(limit=5000)] == created
    assert recorder.requests[0][2]["PageSize"] == 5000


def test_exactly_full_last_page_has_no_next_url(
    recorded: tuple[Client, RecordingHttpClient],
) -> None:
    client, recorder = recorded
    empty = client.studio.v2.flows.page(page_size=2)
    assert sids(empty) == []
    assert empty.next_page_url is None
    assert empty.previous_page_url is None

    created = make_flows(client, 4)
    recorder.requests.clear()
    second = client.studio.v2.flows.page(page_size=2).next_page()
    assert sids(second) == created[2:]
    assert second.next_page_url is None
    assert [f.sid for f in client.studio.v2.flows.list(page_size=2)] == created
    assert len(recorder.requests) == 4  # page(), next_page(), then list's two pages


def test_page_number_without_a_token(server: Server, recorded, account) -> None:
    client, _ = recorded
    created = make_flows(client, 5)
    page = client.studio.v2.flows.page(page_number=1, page_size=2)
    assert sids(page) == created[2:4]
    assert sids(page.next_page()) == created[4:]
    assert sids(page.previous_page()) == created[:2]
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        meta = http.get("/v2/Flows", params={"PageSize": 2, "Page": 1}).json()["meta"]
    assert meta["page"] == 1


# --- keyset stability --------------------------------------------------------------------------


def test_tokens_survive_inserts_and_deletes(recorded: tuple[Client, RecordingHttpClient]) -> None:
    """A token names the last row seen, so changes before it neither skip nor repeat rows."""
    client, _ = recorded
    flows = client.studio.v2.flows
    created = make_flows(client, 6)
    first = flows.page(page_size=2)
    assert sids(first) == created[:2]

    # Deleting rows already seen would shift an offset-based page 2 onto rows 4-5.
    flows(created[0]).delete()
    flows(created[1]).delete()
    second = first.next_page()
    assert sids(second) == created[2:4]

    late = make_flows(client, 1)
    third = second.next_page()
    assert sids(third) == [created[4], created[5]]
    assert sids(third.next_page()) == late
    assert sids(second.previous_page()) == []  # nothing is left before created[2]


# --- revisions ---------------------------------------------------------------------------------


def test_revisions_page_newest_first(recorded: tuple[Client, RecordingHttpClient]) -> None:
    client, recorder = recorded
    flow = client.studio.v2.flows.create(
        friendly_name="revs", status="draft", definition=MINIMAL_DEFINITION
    )
    for i in range(5):
        client.studio.v2.flows(flow.sid).update(status="draft", commit_message=f"c{i + 2}")
    revisions = client.studio.v2.flows(flow.sid).revisions
    recorder.requests.clear()
    assert [r.revision for r in revisions.list(page_size=4)] == [6, 5, 4, 3, 2, 1]
    assert len(recorder.requests) == 2
    first = revisions.page(page_size=2)
    assert [r.revision for r in first] == [6, 5]
    second = first.next_page()
    assert second.next_page_url.startswith(f"{client.studio.base_url}/v2/Flows/{flow.sid}/")
    assert [r.revision for r in second] == [4, 3]
    assert [r.revision for r in second.previous_page()] == [6, 5]
    assert [r.revision for r in second.next_page()] == [2, 1]
    assert [r.commit_message for r in revisions.list(limit=2)] == ["c6", "c5"]


# --- bad paging parameters ---------------------------------------------------------------------


BAD_PAGING = [
    {"PageSize": "0"},
    {"PageSize": "-1"},
    {"PageSize": "abc"},
    {"PageSize": "1.5"},
    {"Page": "-1"},
    {"Page": "first"},
    {"Page": "99999999999999999999"},
    {"PageToken": "garbage"},
    {"PageToken": "PA"},
    {"PageToken": "PAnot-a-key"},
    {"PageToken": "ZZ12"},
    {"PageToken": "PA99999999999999999999999999"},
    {"PageToken": "PB9223372036854775808"},
    {"PageToken": "PA2147483648"},
]


@pytest.mark.parametrize("params", BAD_PAGING, ids=lambda p: "{}={}".format(*next(iter(p.items()))))
def test_bad_paging_parameters_answer_20001(
    server: Server, account: tuple[str, str], params: dict[str, str]
) -> None:
    with httpx.Client(base_url=server.base_url, auth=account) as http:
        for path in ("/v2/Flows", "/v1/Flows"):
            response = http.get(path, params=params)
            assert response.status_code == 400, (path, response.text)
            body = response.json()
            assert body["code"] == 20001
            assert body["status"] == 400
            assert next(iter(params)) in body["message"]


def test_failing_page_raises_a_plain_twilio_exception(client: Client) -> None:
    """twilio-python raises TwilioException (no code/status) when a list call fails."""
    make_flows(client, 1)
    with pytest.raises(TwilioException) as excinfo:
        client.studio.v2.flows.page(page_size=0)
    assert not isinstance(excinfo.value, TwilioRestException)
    response = excinfo.value.args[1]
    assert response.status_code == 400
    with pytest.raises(TwilioException) as excinfo:
        client.studio.v2.flows.page(page_token="nonsense")
    assert not isinstance(excinfo.value, TwilioRestException)
