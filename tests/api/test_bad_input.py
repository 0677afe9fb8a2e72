"""The bad-input corpus: NUL, overlong, deeply nested, badly encoded and malformed values in
every path, query and body of every route, the console login and the flow webhook.

No answer may be a 5xx, on either backend, and the client's keep-alive connection must carry
its next request after each. Routes come from the route tables, so a new route is covered.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import httpx
import pytest
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from flowyard.api import calls, checks, executions, flows_v1, flows_v2, messages
from flowyard.errors import TwilioError
from tests.conftest import MINIMAL_DEFINITION, Server

# Path segments: {P} is the SID prefix the route expects there.
SID_GARBAGE = [
    "%00",
    "{P}%00",
    "{P}" + "0" * 500,
    "{P}" + "z" * 32,
    "%FF%FE",
    "%C0%80",
    "%ED%A0%80",  # a UTF-16 surrogate, encoded
    "%",
    "%zz",
    "%0A%0D",
    "..%2F..",
]
# Raw (already encoded) form values for any text parameter.
VALUE_GARBAGE = [
    "a%00b",
    "%00",
    "x" * 10_000,
    quote_plus("é" * 300),
    "%ED%A0%80",
    "%FF%FE",
    "%zz%",
    "%C0%80",
    quote_plus("\x01\x1f\x7f"),
    "",
]
DEEP = "[" * 900 + "]" * 900
# JSON texts for Definition and Parameters, encoded when sent.
JSON_GARBAGE = [
    DEEP,
    '{"a":' + DEEP + "}",
    '{"a":"\\u0000"}',
    '{"\\u0000":1}',
    '{"a":"\\ud800"}',
    '{"a":1e999}',
    '{"a":' + "9" * 5000 + "}",
    '{"a":"' + "x" * 70_000 + '"}',
    "{",
    "null",
    "[]",
    '"text"',
]


def _definition(**changes: object) -> str:
    definition = json.loads(json.dumps(MINIMAL_DEFINITION))
    definition["states"][0].update(changes)
    if "name" in changes:
        definition["initial_state"] = changes["name"]
    return json.dumps(definition)


DEFINITION_GARBAGE = [
    *JSON_GARBAGE,
    _definition(name="Trigger\x00"),
    _definition(name="T" * 65),
    _definition(name="T" * 5000),
    _definition(properties={"offset": {"x": 0, "y": 0}, "k\x00": "v"}),
    _definition(transitions=[{"event": "incomingMessage", "next": "x" * 10_000}]),
    json.dumps({**MINIMAL_DEFINITION, "description": json.loads(DEEP)}),
]
TOKENS = ["%00", "PA", "PAxyz", "PA-1", "PA" + "9" * 30, "PB" + "9" * 5000, "ZZ1", "PA1%00"]
QUERY_GARBAGE = [
    *(f"PageToken={token}" for token in [*TOKENS, "%FF", "PA%D9%A1"]),
    *(f"PageSize={size}" for size in ("0", "-1", "abc", "9" * 30, "%00")),
    *(f"Page={page}" for page in ("-1", "9" * 30, "1&PageToken=PB1")),
    *("%zz=%", "%00=1", "status=%FF", "status=" + "x" * 10_000, "DateCreatedFrom=x"),
    "DateCreatedFrom=0001-01-01T00:00:00%2B01:00",
    "DateCreatedTo=9999-12-31T23:59:59-01:00",
    "To=" + "x" * 5000,
    "From=%ED%A0%80",
]
BODY_GARBAGE = [
    b"\xff\xfe=\xff",
    b"%zz=%",
    b"\x00=\x00",
    b"a=1&" * 5000,
    b"=&&==&",
]
SIDS = {"Flows": "FW", "Executions": "FN", "Engagements": "FN", "Steps": "FT"}
SIDS |= {"Accounts": "AC", "Messages": "SM", "Calls": "CA", "Revisions": ""}
ROUTES = [
    (method, route.path)
    for module in (flows_v2, flows_v1, executions, messages, calls)
    for route in module.routes
    if isinstance(route, Route)
    for method in sorted(route.methods or ())
    if method != "HEAD"
]


@dataclass
class Corpus:
    """A fresh account with a flow, an execution and (maybe) a step; failures found so far."""

    server: Server
    http: httpx.Client
    token: str
    values: dict[str, str]
    sent: int = 0
    failures: list[str] = field(default_factory=list)

    def path(self, template: str, garbage: tuple[str, str] | None = None) -> str:
        """The route's path with real SIDs, and ``garbage`` in the named parameter."""

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            prefix = SIDS[match.string[: match.start()].rstrip("/").rsplit("/", 1)[-1]]
            if garbage and garbage[0] == name:
                return garbage[1].replace("{P}", prefix)
            return self.values[prefix or "REV"]

        return re.sub(r"\{(\w+)\}", fill, template)

    def send(self, method: str, raw_path: str, body: bytes | None = None, **kw: object) -> None:
        """One request; then a good one, which must go over the same connection."""
        url = self.http.base_url.copy_with(raw_path=raw_path.encode())
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        headers |= kw.pop("headers", {})  # type: ignore[arg-type]
        label = f"{method} {raw_path[:120]} {(body or b'')[:80]!r}"
        self.sent += 1
        try:
            response = self.http.request(method, url, content=body, headers=headers, **kw)  # type: ignore[arg-type]
            if response.status_code >= 500:
                self.failures.append(f"{response.status_code} {label}: {response.text[:200]}")
            port = _local_port(response)
            check = self.http.get(f"/v2/Flows/{self.values['FW']}")
            if check.status_code != 200 or _local_port(check) != port:
                self.failures.append(f"connection not reused after {label}")
        except httpx.TransportError as exc:
            self.failures.append(f"{type(exc).__name__} {label}")


def _local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def _form(values: dict[str, str], raw: dict[str, str] | None = None) -> bytes:
    fields = [f"{k}={quote_plus(v)}" for k, v in values.items() if k not in (raw or {})]
    fields += [f"{k}={v}" for k, v in (raw or {}).items()]
    return "&".join(fields).encode()


@pytest.fixture
def corpus(server: Server) -> Iterator[Corpus]:
    sid, token = server.new_account("corpus")
    with httpx.Client(base_url=server.base_url, auth=(sid, token), timeout=30) as http:
        flow = http.post(
            "/v2/Flows",
            data={"FriendlyName": "corpus", "Status": "published", "Definition": _definition()},
        ).json()["sid"]
        execution = http.post(
            f"/v2/Flows/{flow}/Executions", data={"To": "+15550001111", "From": "+15550002222"}
        ).json()["sid"]
        steps = http.get(f"/v2/Flows/{flow}/Executions/{execution}/Steps").json()["steps"]
        values = {
            "AC": sid,
            "FW": flow,
            "FN": execution,
            "FT": steps[0]["sid"] if steps else "FT" + "0" * 32,
            "SM": "SM" + "0" * 32,
            "CA": "CA" + "0" * 32,
            "REV": "1",
        }
        yield Corpus(server, http, token, values)


def _base_form(path: str) -> dict[str, str] | None:
    """A valid body for the POST route at ``path`` (its parameters), or None for none."""
    if path.endswith("/TestUsers"):
        return {"TestUsers": "+15550001111"}
    if path.endswith(("/Executions", "/Engagements")):
        return {"To": "+1555" + uuid.uuid4().hex[:7], "From": "+15550002222", "Parameters": "{}"}
    if path.endswith("/{sid}") and "/Executions" in path:
        return {"Status": "ended"}
    if path.startswith("/v2/Flows"):
        return {
            "FriendlyName": "corpus",
            "Status": "draft",
            "Definition": _definition(),
            "CommitMessage": "c",
            "AuthorSid": "US" + "0" * 32,
        }
    return None


def test_every_route_is_in_the_corpus() -> None:
    paths = {path for _, path in ROUTES}
    assert len(ROUTES) >= 40
    assert "/v2/Flows/Validate" in paths and "/v1/Flows/{flow}/Engagements/{sid}/Context" in paths


def test_malformed_sids_in_paths_are_never_5xx(corpus: Corpus) -> None:
    for method, template in ROUTES:
        for name in re.findall(r"\{(\w+)\}", template):
            for garbage in SID_GARBAGE:
                body = _form(_base_form(template) or {}) if method == "POST" else None
                corpus.send(method, corpus.path(template, (name, garbage)), body)
    assert corpus.sent > 500
    assert corpus.failures == []


def test_malformed_page_tokens_and_filters_are_never_5xx(corpus: Corpus) -> None:
    lists = [path for method, path in ROUTES if method == "GET" and not path.endswith("}")]
    lists += [path for method, path in ROUTES if path.endswith(("Messages.json", "Calls.json"))]
    for template in lists:
        for query in QUERY_GARBAGE:
            corpus.send("GET", f"{corpus.path(template)}?{query}")
    assert corpus.failures == []


def test_bad_bodies_are_never_5xx(corpus: Corpus) -> None:
    posts = [path for method, path in ROUTES if method == "POST"]
    for template in posts:
        path = corpus.path(template)
        base = _base_form(template)
        assert base is not None, template
        for name in base:
            garbage = list(VALUE_GARBAGE)
            if name == "Parameters":
                garbage += [quote_plus(text) for text in JSON_GARBAGE]
            if name == "Definition":
                garbage += [quote_plus(text) for text in DEFINITION_GARBAGE]
            for raw in garbage:
                corpus.send("POST", path, _form(_base_form(template) or {}, {name: raw}))
        for body in BODY_GARBAGE:
            corpus.send("POST", path, body)
        corpus.send("POST", path, b'{"To": 1}', headers={"Content-Type": "application/json"})
        corpus.send("POST", path, b"--x\r\n\r\n", headers={"Content-Type": "multipart/form-data"})
    assert corpus.failures == []


def test_definitions_with_nul_are_refused_and_executions_of_the_rest_run(corpus: Corpus) -> None:
    http = corpus.http
    nul = _definition(properties={"offset": {"x": 0, "y": 0}, "note": "a\x00b"})
    for path in ("/v2/Flows", "/v2/Flows/Validate", f"/v2/Flows/{corpus.values['FW']}"):
        response = http.post(path, data={"FriendlyName": "n", "Status": "draft", "Definition": nul})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["code"] == 81022
        assert body["details"]["errors"] == [
            {
                "message": "must not contain NUL characters",
                "property_path": "#/states/0/properties/note",
            }
        ]
    started = http.post(
        f"/v2/Flows/{corpus.values['FW']}/Executions",
        data={"To": "+15550003333", "From": "+15550002222", "Parameters": '{"a": "ok"}'},
    )
    assert started.status_code == 201, started.text


def test_the_reported_inputs_get_twilio_4xx_answers(corpus: Corpus) -> None:
    """The rows of the issue: each refused with a Twilio code that names what was wrong."""
    http, flow = corpus.http, corpus.values["FW"]
    definition = _definition()
    executions = f"/v2/Flows/{flow}/Executions"
    deep = '{"a":' + DEEP + "}"
    cases = [
        ("FriendlyName", "/v2/Flows", {"FriendlyName": "a\x00", "Definition": definition}),
        ("FriendlyName", "/v2/Flows", {"FriendlyName": "a" * 65, "Definition": definition}),
        ("To", executions, {"To": "+1" * 128, "From": "+15550002222"}),
        ("Parameters", executions, {"To": "+15550005555", "From": "x", "Parameters": deep}),
    ]
    for name, path, data in cases:
        response = http.post(path, data={"Status": "draft", **data})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == 20001
        assert response.json()["message"].startswith(f"Invalid parameter {name}: "), name
    webhook = httpx.post(corpus.server.base_url + "/v1/Accounts/AC%00/Flows/FW1", data={"a": "b"})
    assert (webhook.status_code, webhook.json()["code"]) == (404, 20404)
    page = http.get(f"{executions}?PageToken=PA%FF")
    assert (page.status_code, page.json()["code"]) == (400, 20001)
    assert "PageToken" in page.json()["message"]


# --- the console login and the flow webhook ---------------------------------------------------


def test_console_login_garbage_is_never_5xx(corpus: Corpus) -> None:
    page = corpus.http.get("/console/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    base = {"csrf": csrf, "username": corpus.values["AC"], "password": "wrong"}
    for name in ("csrf", "username", "next"):
        for raw in VALUE_GARBAGE:
            if name == "next":
                corpus.send("POST", f"/console/login?next={raw}", _form(base))
            else:
                corpus.send("POST", "/console/login", _form(base, {name: raw}))
    for body in BODY_GARBAGE:
        corpus.send("POST", "/console/login", body)
    assert corpus.failures == []


def _signed(corpus: Corpus, path: str, values: dict[str, str]) -> dict[str, str]:
    """The X-Twilio-Signature Twilio would send for ``values`` posted to ``path``."""
    validator = RequestValidator(corpus.token)
    return {
        "X-Twilio-Signature": validator.compute_signature(corpus.server.base_url + path, values)
    }


INBOUND = {
    "MessageSid": "SM" + "1" * 32,
    "From": "+15550004444",
    "To": "+15550002222",
    "Body": "hi",
    "NumMedia": "0",
    "NumSegments": "1",
}
# Refused by webhook_params once the webhook calls it; until then some are 500s.
WEBHOOK_GARBAGE = [
    {"NumMedia": "abc"},
    {"NumMedia": "-1"},
    {"NumMedia": "11"},
    {"NumSegments": "x"},
    {"NumSegments": "99999999999"},
    {"From": "+1" * 200},
    {"MessageSid": "SM" + "0" * 300},
    {"MessagingServiceSid": "MG" + "0" * 300},
    {"MessageStatus": "failed", "ErrorCode": "9" * 30},
    {"MessageStatus": "x" * 300},
    {"CallSid": "CA" + "2" * 32, "CallStatus": "x" * 300},
    {"CallSid": "CA" + "3" * 32, "CallStatus": "completed", "CallDuration": "9" * 30},
    {"CallSid": "CA" + "4" * 300, "CallStatus": "ringing"},
]


def test_unsigned_or_badly_encoded_webhooks_are_never_5xx(corpus: Corpus) -> None:
    account, flow = corpus.values["AC"], corpus.values["FW"]
    for garbage in SID_GARBAGE:
        for name in ("account", "flow"):
            path = corpus.path("/v1/Accounts/{account}/Flows/{flow}", (name, garbage))
            corpus.send("POST", path, _form(INBOUND))
            corpus.send("GET", f"{path}?From=x")
    path = f"/v1/Accounts/{account}/Flows/{flow}"
    for raw in VALUE_GARBAGE:
        for name in ("Body", "From", "MessageSid"):
            corpus.send("POST", path, _form(INBOUND, {name: raw}))
        corpus.send("POST", f"{path}?executionSid={raw}", _form(INBOUND))
    for body in BODY_GARBAGE:
        corpus.send("POST", path, body)
    # Signed, but NUL: refused before anything is looked up.
    nul = {**INBOUND, "Body": "a\x00"}
    corpus.send("POST", path, _form(nul), headers=_signed(corpus, path, nul))
    assert corpus.failures == []


@pytest.mark.parametrize("garbage", WEBHOOK_GARBAGE, ids=lambda g: ",".join(g)[:40])
def test_signed_webhook_garbage_is_never_5xx(corpus: Corpus, garbage: dict[str, str]) -> None:
    path = f"/v1/Accounts/{corpus.values['AC']}/Flows/{corpus.values['FW']}"
    values = {**INBOUND, "From": "+1555" + uuid.uuid4().hex[:7], **garbage}
    if "CallSid" in garbage:
        values.pop("MessageSid")
    corpus.send("POST", path, _form(values), headers=_signed(corpus, path, values))
    assert corpus.failures == []


def test_garbage_credentials_are_never_5xx(corpus: Corpus) -> None:
    account = corpus.values["AC"]
    for username, password in ((account, "é"), (account + "\x00", "x"), ("\x00", "\x00")):
        corpus.send("GET", "/v2/Flows", auth=(username, password))
        page = corpus.http.get("/console/login")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"csrf": csrf, "username": username.replace("\x00", ""), "password": password}
        corpus.send("POST", "/console/login", _form(form))
    assert corpus.failures == []


@pytest.mark.parametrize("garbage", WEBHOOK_GARBAGE, ids=lambda g: ",".join(g)[:40])
def test_webhook_params_refuses_each_signed_garbage_case(garbage: dict[str, str]) -> None:
    """What the webhook refuses through checks.webhook_params."""
    with pytest.raises(TwilioError) as excinfo:
        checks.webhook_params({**INBOUND, **garbage})
    assert excinfo.value.status == 400
