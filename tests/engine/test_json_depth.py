"""Deeply nested JSON from a server or a template stays out of the context (which is stored
as JSON, and the encoder stops at 254 levels) instead of failing the execution."""

from __future__ import annotations

import orjson

from flowyard.engine.widgets.base import MAX_JSON_DEPTH
from tests.engine.test_engine_widgets import http, session
from tests.flows import go, state


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_an_http_body_nested_too_deep_is_not_parsed():
    for depth, parsed in ((MAX_JSON_DEPTH, True), (MAX_JSON_DEPTH + 1, False), (10_000, False)):
        body = nested(depth)
        s = session(http("h"), respond=lambda call, body=body: (200, body, "application/json"))
        s.rest()
        assert s.path()[-1] == ("h", "success", "Ended")
        entry = s.context["widgets"]["h"]
        assert entry["body"] == body and ("parsed" in entry) is parsed
        orjson.dumps(s.context)  # storable


def test_set_variables_parse_as_json_too_deep_keeps_the_string():
    template = "{% for i in (1..15) %}[[[[[[{% endfor %}{% for i in (1..15) %}]]]]]]{% endfor %}"
    setter = state(
        "v",
        "set-variables",
        [go("next")],
        variables=[
            {"key": "deep", "value": template, "parse_as_json": True},
            {"key": "flat", "value": "[[1]]", "parse_as_json": True},
        ],
    )
    s = session(setter)
    s.rest()
    assert s.state.status == "ended" and not s.errors
    assert s.context["flow"]["variables"]["deep"] == "[" * 90 + "]" * 90
    assert s.context["flow"]["variables"]["flat"] == [[1]]
    orjson.dumps(s.context)
