"""Liquid where Studio and stock python-liquid differ (issue 12, rows 6-11; docs/fidelity.md)."""

from __future__ import annotations

import pytest

from flowyard.engine import Flow, Timeout
from flowyard.engine.liquid import TemplateError, render
from flowyard.engine.liquid_compat import keyword_paths
from flowyard.engine.testing import VirtualEnvironment
from flowyard.testing.session import Session, Stubs
from tests.flows import flow, go, state

KEYWORDS = ["offset", "limit", "in", "with", "for", "and", "or", "contains", "empty"]
KEYWORDS += ["blank", "nil", "null", "true", "false", "not", "reversed", "cols", "as", "if"]


@pytest.mark.parametrize("word", KEYWORDS)
def test_a_key_named_like_a_keyword_is_a_plain_lookup_everywhere(word):
    data = {"a": {word: "7"}, "x": "q"}
    assert render(f"{{{{ a.{word} | append: '!' }}}}", data) == "7!"
    assert render(f"{{% if a.{word} == '7' %}}yes{{% endif %}}", data) == "yes"
    assert render(f"{{{{ x | append: a.{word} }}}}", data) == "q7"
    assert render(f"{{% assign y = a.{word} %}}{{{{ y }}}}", data) == "7"


def test_the_offset_and_limit_of_a_paged_api_add_up():
    parsed = {"offset": 20, "limit": 10}
    assert render("{{ parsed.offset | plus: parsed.limit }}", {"parsed": parsed}) == "30"
    # The for tag's own limit/offset arguments still work.
    items = {"a": {"items": [1, 2, 3, 4]}}
    assert render("{% for i in a.items limit: 2 offset: 1 %}{{i}}{% endfor %}", items) == "23"


def test_strings_raw_blocks_and_numbers_are_left_alone():
    source = "{{ 'a.limit' }} {% raw %}{{ a.limit }}{% endraw %} {{ 1.5 | plus: x.0 }} (1..3)"
    assert keyword_paths(source) == (
        "{{ 'a.limit' }} {% raw %}{{ a.limit }}{% endraw %} {{ 1.5 | plus: x[0] }} (1..3)"
    )
    assert render("{{ 'a.limit' }} {% raw %}{{ a.in }}{% endraw %}", {}) == "a.limit {{ a.in }}"


def test_numeric_segments_and_unresolvable_lookups_are_empty():
    data = {"x": {"items": [{"name": "n"}]}, "s": "text", "e": {"items": []}}
    assert render("{{ x.items.0.name }}", data) == "n"
    assert render("[{{ e.items.0 }}][{{ s.0.y }}][{{ nothing.items.0 }}]", data) == "[][][]"


@pytest.mark.parametrize(
    ("template", "tries", "expected"),
    [
        ("{% if t > 2 %}y{% else %}n{% endif %}", "3", "y"),
        ("{% if t > 2 %}y{% else %}n{% endif %}", "1", "n"),
        ("{% if t >= 3 %}y{% else %}n{% endif %}", "3", "y"),
        ("{% if t < 2.5 %}y{% else %}n{% endif %}", " 2 ", "y"),
        ("{% if t == 3 %}y{% else %}n{% endif %}", "3", "y"),
        ("{% if t != 3 %}y{% else %}n{% endif %}", "3", "n"),
        ("{% case t %}{% when 3 %}y{% else %}n{% endcase %}", "3", "y"),
        # A string that spells no number is not a number: false, and the render goes on.
        ("{% if t > 2 %}y{% else %}n{% endif %}", "many", "n"),
        ("{% if t == 3 %}y{% else %}n{% endif %}", "three", "n"),
        ("{% if t > 2 %}y{% else %}n{% endif %}", ["x"], "n"),
    ],
)
def test_a_number_in_a_string_compares_as_the_number(template, tries, expected):
    assert render(template + "!", {"t": tries}) == expected + "!"


def test_each_loop_is_capped_at_fifteen_not_their_product():
    nested = "{% for i in (1..4) %}{% for j in (1..4) %}x{% endfor %}{% endfor %}"
    assert render(nested, {}) == "x" * 16
    assert render("{% for i in (1..15) %}{% for j in (1..15) %}x{% endfor %}{% endfor %}", {})
    with pytest.raises(TemplateError, match="loop iteration limit"):
        render("{% for i in (1..16) %}x{% endfor %}", {})


def test_round_takes_halves_up():
    rounded = "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.45 | round: 1 }} {{ -2.5 | round }}"
    assert render(rounded, {}) == "3 4 2.5 -3"
    assert render("{{ '1.25' | round: 1 }} {{ 7 | round }}", {}) == "1.3 7"


def _session(*states) -> Session:
    definition = flow(*states, rest=states[0]["name"])
    env = VirtualEnvironment()
    return Session(
        Flow.from_definition(definition, flow_sid="FW" + "c" * 32, revision=1),
        env,
        Stubs(env.clock),
    )


def test_a_numeric_property_is_a_template_too():
    ask = state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage"), go("timeout")],
        body="?",
        timeout="{{flow.data.wait}}",
        **{"from": "{{flow.channel.address}}"},
    )
    s = _session(ask)
    started = s.env.timestamp()
    s.rest(wait="90")
    assert s.state.wait.until == pytest.approx(started + 90)
    s.resume(Timeout())
    assert s.path()[-1] == ("ask", "timeout", "Ended")


def test_a_numeric_property_that_renders_to_nothing_takes_the_default():
    ask = state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage"), go("timeout")],
        body="?",
        timeout="{{flow.data.missing}}",
        **{"from": "{{flow.channel.address}}"},
    )
    s = _session(ask)
    started = s.env.timestamp()
    s.rest()
    assert s.state.wait.until == pytest.approx(started + s.env.default_reply_timeout)
