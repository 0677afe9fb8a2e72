"""flowyard.api.checks on its own: the limits, and ``webhook_params`` for the flow webhook."""

from __future__ import annotations

import json

import pytest

from flowyard.api import checks
from flowyard.api.requests import Params, parse_qs
from flowyard.errors import TwilioError
from tests.conftest import MINIMAL_DEFINITION


def refused(call, *args: object) -> TwilioError:
    with pytest.raises(TwilioError) as excinfo:
        call(*args)
    return excinfo.value


def params(**values: str) -> Params:
    return Params({k: [v] for k, v in values.items()})


def nested(depth: int) -> str:
    return '{"a":' + "[" * depth + "]" * depth + "}"


# --- REST parameters -----------------------------------------------------------------------


def test_strings_are_refused_for_nul_and_length_naming_the_parameter() -> None:
    for name, limit in (("FriendlyName", 64), ("CommitMessage", 4096)):
        assert checks.flow_params(params(**{name: "x" * limit})) is None
        error = refused(checks.flow_params, params(**{name: "x" * (limit + 1)}))
        assert (error.status, error.code) == (400, 20001)
        assert error.message == f"Invalid parameter {name}: must be at most {limit} characters"
        error = refused(checks.flow_params, params(**{name: "a\x00b"}))
        assert error.message == f"Invalid parameter {name}: must not contain NUL characters"
    for name in ("To", "From"):
        checks.execution_params(params(**{name: "+1" * 127}))
        assert name in refused(checks.execution_params, params(**{name: "x" * 256})).message
    assert refused(checks.flow_params, params(AuthorSid="US1")).code == 20001
    checks.flow_params(params(AuthorSid="US" + "0a" * 16))


def test_test_users_are_bounded() -> None:
    assert checks.test_users(["+15550001111", "client:alice"]) == ["+15550001111", "client:alice"]
    assert "TestUsers" in refused(checks.test_users, ["x" * 256]).message
    assert "TestUsers" in refused(checks.test_users, ["a"] * 1001).message


def test_parameters_depth_size_and_nul() -> None:
    checks.execution_params(params(Parameters=nested(63)))
    error = refused(checks.execution_params, params(Parameters=nested(64)))
    assert error.message.startswith("Invalid parameter Parameters: must not be nested")
    assert "Parameters" in refused(checks.parameters, nested(900)).message
    assert "#/k" in refused(checks.parameters, json.dumps({"k": "a\x00"})).message
    assert "#/a\x00" in refused(checks.parameters, json.dumps({"a\x00": 1})).message
    assert "bytes" in refused(checks.parameters, json.dumps({"a": "é" * 40_000})).message
    checks.parameters("not json")  # the runtime names what is not a JSON object


def test_a_definition_with_nul_anywhere_is_81022_with_property_paths() -> None:
    definition = json.loads(json.dumps(MINIMAL_DEFINITION))
    definition["description"] = "a\x00"
    definition["states"][0]["properties"]["k\x00"] = {"x": ["ok", "b\x00"]}
    error = refused(checks.definition, json.dumps(definition))
    assert (error.status, error.code) == (400, 81022)
    assert error.details == {
        "errors": [
            {"message": "must not contain NUL characters", "property_path": "#/description"},
            {
                "message": "property names must not contain NUL characters",
                "property_path": "#/states/0/properties/k\x00",
            },
            {
                "message": "must not contain NUL characters",
                "property_path": "#/states/0/properties/k\x00/x/1",
            },
        ]
    }
    checks.definition(json.dumps(MINIMAL_DEFINITION))


def test_a_definition_too_deep_or_with_a_long_state_name_is_81022() -> None:
    deep = {**MINIMAL_DEFINITION, "description": json.loads(nested(100))}
    errors = refused(checks.definition, json.dumps(deep)).details["errors"]
    assert errors[0]["property_path"].startswith("#/description/a/0/0")
    long_name = json.loads(json.dumps(MINIMAL_DEFINITION))
    long_name["states"][0]["name"] = "n" * 65
    errors = refused(checks.definition, json.dumps(long_name)).details["errors"]
    assert errors == [
        {"message": "name: must be at most 64 characters", "property_path": "#/states/0/name"}
    ]


def test_form_and_query_parsing_refuse_nul_naming_the_field() -> None:
    for text in ("To=a%00b", "To=a\x00", "T%00o=1"):
        error = refused(parse_qs, text)
        assert error.message == "Invalid parameter To: must not contain NUL characters"
    assert parse_qs("a=%zz&b=%") == {"a": ["%zz"], "b": ["%"]}  # bad escapes stay as they are


# --- webhook_params ---------------------------------------------------------------------------

INBOUND = {
    "MessageSid": "SM" + "0" * 32,
    "AccountSid": "AC" + "1" * 32,
    "From": "+15550001111",
    "To": "+15550002222",
    "Body": "hi",
    "NumMedia": "0",
    "NumSegments": "1",
}


def test_webhook_params_accepts_what_twilio_sends() -> None:
    assert checks.webhook_params(INBOUND) is INBOUND
    media = {**INBOUND, "NumMedia": "10", **{f"MediaUrl{i}": f"https://m/{i}" for i in range(10)}}
    assert checks.webhook_params(media) is media
    call = {"CallSid": "CA" + "2" * 32, "CallStatus": "in-progress", "CallDuration": "30"}
    assert checks.webhook_params(call) is call
    status = {**INBOUND, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert checks.webhook_params(status) is status
    assert checks.webhook_params({**INBOUND, "ErrorCode": ""})["ErrorCode"] == ""
    assert checks.webhook_params({}) == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NumMedia", "abc"),
        ("NumMedia", "11"),
        ("NumMedia", "30000000"),
        ("NumMedia", "-1"),
        ("NumMedia", "\u0661"),  # ARABIC-INDIC DIGIT ONE: a digit, not one Twilio writes
        ("NumSegments", "x"),
        ("NumSegments", "101"),
        ("CallDuration", "9" * 12),
        ("ErrorCode", "3e4"),
        ("Body", "a\x00"),
        ("MessageSid", "SM" + "0" * 40),
        ("From", "+1" * 200),
        ("CallStatus", "x" * 33),
    ],
)
def test_webhook_params_refuses_garbage_naming_the_field(name: str, value: str) -> None:
    error = refused(checks.webhook_params, {**INBOUND, name: value})
    assert (error.status, error.code) == (400, 20001)
    assert error.message.startswith(f"Invalid parameter {name}: ")


def test_webhook_params_bounds_the_whole_request() -> None:
    checks.webhook_params({**INBOUND, "Body": "x" * 60_000})
    error = refused(checks.webhook_params, {**INBOUND, "Body": "x" * (64 * 1024)})
    assert (error.status, error.code) == (400, 20001)
    assert "65536 bytes" in error.message
    assert refused(checks.webhook_params, {"Na\x00me": "v"}).code == 20001
