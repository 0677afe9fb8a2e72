"""Liquid budgets: ranges, filter inputs and results, numbers, template size and total work.

Each hostile template must fail with 81018 and a message naming the budget it broke, and what
a template may build stays bounded. No timings are asserted here: the budgets are counted, so
they fail the same way on any machine (bench figures are in the report of issue 10).
"""

from __future__ import annotations

import pytest

from flowyard.engine.liquid import Renderer, TemplateError, render
from flowyard.engine.liquid_budget import (
    MAX_ITEMS,
    MAX_STRING_CHARS,
    MAX_TEMPLATE_CHARS,
    Budget,
    OverBudget,
)
from tests.engine.test_engine_widgets import send, session

DOUBLE = "{% assign a = a | append: a %}"


def doubled(seed: str, times: int) -> str:
    """A template that doubles ``a`` ``times`` times in a 15-iteration-capped loop."""
    return f"{{% assign a = '{seed}' %}}{{% for i in (1..{times}) %}}{DOUBLE}{{% endfor %}}"


HOSTILE = {
    # The template: a 900 MB string before budgets.
    "range_join": ("{{ (1..100000000) | join: ',' | size }}", "100000000 items"),
    "range_assigned_then_joined": (
        "{% assign r = (1..100000000) %}{{ r | join: ',' | size }}",
        "item budget",
    ),
    "range_from_context": ("{{ (1..flow.n) | join | size }}", "item budget"),
    "range_sum": ("{{ (1..100000000) | sum }}", "item budget"),
    "range_sort": ("{{ (1..10000000) | sort | size }}", "item budget"),
    "range_uniq": ("{{ (1..10000000) | uniq | size }}", "item budget"),
    "range_slice": ("{{ (1..100000000) | slice: 0, 100000000 | size }}", "item budget"),
    "range_inside_a_loop": (
        "{% for i in (1..15) %}{{ (1..100000000) | join | size }}{% endfor %}",
        "item budget",
    ),
    "replace_multiplies": (
        "{% assign a = '" + "x" * 100 + "' %}"
        "{{ a | replace: 'x', a | replace: 'x', a | replace: 'x', a | size }}",
        "character budget",
    ),
    "replace_empty_needle": (
        "{% assign a = '" + "x" * 2000 + "' %}{{ a | replace: '', a | size }}",
        "character budget",
    ),
    "join_long_separator": (
        "{% assign s = '" + "y" * 1000 + "' %}{{ (1..5000) | join: s | size }}",
        "character budget",
    ),
    "split_doubled_string": (
        doubled("x,x,x,x,x,", 12) + "{{ a | split: ',' | size }}",
        "item budget",
    ),
    "sort_of_split_characters": (
        doubled("abcdefghij", 15) + "{{ a | split: '' | sort | size }}",
        "item budget",
    ),
    "number_squared_until_huge": (
        "{% assign n = '" + "9" * 300 + "' | plus: 0 %}"
        "{% for i in (1..15) %}{% assign n = n | times: n %}{% endfor %}{{ n | size }}",
        "bit budget",
    ),
    "slow_filter_on_doubled_text": (
        doubled("<a>&amp;<<", 15) + "{{ a | escapejs | escape_once | url_encode | size }}",
        "work budget",
    ),
    "many_sequential_loops": (
        doubled("x" * 50, 13)
        + "{% for i in (1..15) %}{% assign b = a | upcase | strip_html %}{% endfor %}" * 100,
        "work budget",
    ),
    "quadratic_uniq": ("{{ flow.items | uniq | size }}", "work budget"),
    "long_template": ("{% assign a = 1 %}" * 2000, "template of"),
}

CONTEXT = {"flow": {"n": 100_000_000, "items": [str(i % 5000) for i in range(MAX_ITEMS)]}}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_template_fails_with_81018_naming_its_budget(name):
    template, reason = HOSTILE[name]
    with pytest.raises(TemplateError) as info:
        Renderer().render(template, CONTEXT)
    assert info.value.code == 81018
    assert reason in str(info.value)
    assert str(info.value).startswith("Liquid template error:")


def test_doubling_in_a_capped_loop_is_bounded_by_the_character_budget():
    # 15 doublings of 10 characters is 327,680: allowed, and well below the budget.
    assert render(doubled("x" * 10, 15) + "{{ a | size }}", {}) == "327680"
    # Starting 100 times larger, the 11th doubling would pass 1,000,000 characters.
    with pytest.raises(TemplateError, match="budget"):
        render(doubled("x" * 1000, 15) + "{{ a | size }}", {})


def test_capture_doubling_is_bounded_too():
    template = (
        "{% capture a %}" + "y" * 1000 + "{% endcapture %}"
        "{% for i in (1..15) %}{% capture a %}{{a}}{{a}}{% endcapture %}{% endfor %}{{ a | size }}"
    )
    with pytest.raises(TemplateError, match="limit"):
        render(template, {})


def test_everyday_templates_fit_easily():
    data = {
        "widgets": {"http": {"parsed": {"items": [{"name": f"n{i}", "n": i} for i in range(200)]}}}
    }
    template = (
        "{% assign names = widgets.http.parsed.items | map: 'name' | sort | reverse %}"
        "{{ names | slice: 0, 3 | join: ', ' }};"
        "{% for item in widgets.http.parsed.items limit: 15 %}{{ item.n | plus: 1 }}{% endfor %};"
        "{{ 'a,b,c' | split: ',' | size }};{{ (1..15) | join: '-' | size }}"
    )
    assert render(template, data) == ("n99, n98, n97;123456789101112131415;3;35")
    assert render(f"{{{{ (1..{MAX_ITEMS}) | size }}}}", {}) == str(MAX_ITEMS)
    assert len(render("{{ a | append: a }}", {"a": "x" * (MAX_STRING_CHARS // 2)})) == (
        MAX_STRING_CHARS
    )
    assert render("{% assign a = 1 %}" * (MAX_TEMPLATE_CHARS // 18) + "{{a}}", {}) == "1"
    # A string given to ``join`` is one item, not as many items as it has characters.
    assert render("{{ a | join: ', ' | size }}", {"a": "x" * 600_000}) == "600000"


def test_a_budget_is_per_render():
    renderer = Renderer()
    half = {"items": CONTEXT["flow"]["items"][: MAX_ITEMS // 2]}
    for _ in range(20):  # each render starts with a full budget: 20 of these would not fit
        assert renderer.render("{{ items | sort | last }}", half) == "999"


def test_budget_counts_work_and_checks_results():
    budget = Budget(work=100_000)
    assert budget.call("upcase", str.upper, "abc") == "ABC"
    with pytest.raises(OverBudget, match="upcase: template over its work budget"):
        for _ in range(10):
            budget.call("upcase", str.upper, "abc")
    with pytest.raises(OverBudget, match="result of 10001 items"):
        Budget().call("make", lambda _: list(range(MAX_ITEMS + 1)), "")


def test_hostile_send_message_body_fails_the_widget_with_81018():
    s = session(send("m", body="{{ (1..100000000) | join: ',' | size }}"))
    s.rest()
    assert s.path()[-1] == ("m", "failed", "Ended")
    assert s.errors[0].code == 81018 and "item budget" in s.errors[0].message
    assert s.stubs.calls == []
