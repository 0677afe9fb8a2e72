"""Tests for the flow-definition validator and the widget table it reads."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest

from flowyard.engine.specs import (
    CONDITION_OPERATORS,
    SCHEMA_URL,
    WIDGET_SPECS,
    WIDGET_TYPES,
    events_for,
)
from flowyard.engine.validate import ValidationReport, validate_definition
from tests.conftest import corpus_flows, shared_path

CORPUS_FILES = list(corpus_flows().values())  # tests/data/flows, then ../shared/flows

# Corpus flows judged invalid (Studio would have refused them): {filename: reason}, with the
# exact errors expected for each in CORPUS_ERRORS. After reading every file none qualifies: the
# one known defect, the dangling ``next`` in the vaccine-standby SMS flow, is a warning.
INVALID_CORPUS_FLOWS: dict[str, str] = {}
CORPUS_ERRORS: dict[str, list[dict]] = {}

DANGLING_FLOW = "twilio-labs__function-templates__sms-studio-flow.json"

TRIGGER = {
    "name": "Trigger",
    "type": "trigger",
    "transitions": [
        {"event": "incomingMessage", "next": "send"},
        {"event": "incomingCall"},
        {"event": "incomingRequest"},
    ],
    "properties": {"offset": {"x": 0, "y": 0}},
}
SEND = {
    "name": "send",
    "type": "send-message",
    "transitions": [{"event": "sent"}, {"event": "failed"}],
    "properties": {
        "from": "{{flow.channel.address}}",
        "to": "{{contact.channel.address}}",
        "body": "Hello {{contact.channel.address}}",
        "offset": {"x": 10, "y": 200},
    },
}


def flow(*states: dict, **top: object) -> dict:
    """A valid definition: the trigger wired to ``send``, plus ``states`` (deep-copied)."""
    definition = {
        "description": "A New Flow",
        "flags": {"allow_concurrent_calls": True},
        "initial_state": "Trigger",
        "states": [copy.deepcopy(TRIGGER), copy.deepcopy(SEND)],
    }
    definition["states"].extend(copy.deepcopy(s) for s in states)
    definition.update(top)
    return definition


def widget(name: str, widget_type: str, properties: dict, transitions: list | None = None) -> dict:
    """A state reached from ``send``'s ``sent`` event, so reachability warnings stay quiet."""
    return {
        "name": name,
        "type": widget_type,
        "transitions": transitions if transitions is not None else [],
        "properties": properties,
    }


def wired(*states: dict) -> dict:
    """A definition where ``send --sent--> states[0] -> states[1] ...`` via their first event."""
    definition = flow(*states)
    chain = definition["states"][1:]
    for source, target in itertools.pairwise(chain):
        if source["transitions"]:
            source["transitions"][0]["next"] = target["name"]
        else:
            source["transitions"] = [
                {"event": events_for(source["type"])[0], "next": target["name"]}
            ]
    return definition


def errors(definition: object) -> list[tuple[str, str]]:
    return [(e["property_path"], e["message"]) for e in validate_definition(definition).errors]


def warnings(definition: object) -> list[tuple[str, str]]:
    return [(w["property_path"], w["message"]) for w in validate_definition(definition).warnings]


def prop_errors(widget_type: str, properties: dict) -> list[tuple[str, str]]:
    """Errors for one widget placed at ``#/states/2``."""
    return errors(wired(widget("w", widget_type, properties)))


# --- report and minimal flows ---------------------------------------------------------------


def test_minimal_flow_is_valid() -> None:
    report = validate_definition(flow())
    assert isinstance(report, ValidationReport)
    assert report.valid
    assert report.errors == [] and report.warnings == []


def test_trigger_only_flow_is_valid() -> None:
    definition = {"initial_state": "Trigger", "states": [copy.deepcopy(TRIGGER)]}
    definition["states"][0]["transitions"] = []
    assert validate_definition(definition).valid


def test_report_is_frozen_and_items_have_two_keys() -> None:
    report = validate_definition({"states": []})
    with pytest.raises(AttributeError):
        report.errors = []  # type: ignore[misc]
    assert not report.valid
    assert all(set(item) == {"message", "property_path"} for item in report.errors)


@pytest.mark.parametrize("value", [[], None, "flow", 3, True])
def test_non_object_definition_gets_one_error_at_root(value: object) -> None:
    found = {list: "array", type(None): "null", str: "string", int: "integer", bool: "boolean"}
    assert errors(value) == [
        (
            "#",
            f"the flow definition must be a JSON object: {found[type(value)]} found, "
            "object expected",
        )
    ]


# --- top level ------------------------------------------------------------------------------


def test_missing_states_and_initial_state() -> None:
    assert errors({}) == [
        ("#/initial_state", "initial_state is missing but it is required"),
        ("#/states", "states is missing but it is required"),
    ]


def test_states_must_be_a_non_empty_array() -> None:
    assert errors(flow(states={})) == [("#/states", "states: object found, array expected")]
    assert errors(flow(states=[])) == [("#/states", "states: must contain at least 1 state")]
    assert errors(flow(states=None)) == [("#/states", "states: must not be null")]


def test_states_are_capped_at_1000() -> None:
    extra = [widget(f"s{i}", "set-variables", {}) for i in range(999)]
    assert ("#/states", "states: must contain at most 1000 states, found 1001") in errors(
        flow(*extra)
    )
    assert errors(flow(*extra[:998])) == []


def test_initial_state_must_name_an_existing_state() -> None:
    assert errors(flow(initial_state="Start")) == [
        ("#/initial_state", "initial_state: 'Start' does not name a state in states")
    ]
    assert errors(flow(initial_state="")) == [
        ("#/initial_state", "initial_state: must not be empty")
    ]
    assert errors(flow(initial_state=1)) == [
        ("#/initial_state", "initial_state: integer found, string expected")
    ]


def test_description_flags_and_schema() -> None:
    assert errors(flow(description=5)) == [
        ("#/description", "description: integer found, string expected")
    ]
    assert errors(flow(flags={})) == [
        ("#/flags/allow_concurrent_calls", "allow_concurrent_calls is missing but it is required")
    ]
    assert errors(flow(flags={"allow_concurrent_calls": "true"})) == [
        ("#/flags/allow_concurrent_calls", "allow_concurrent_calls: string found, boolean expected")
    ]
    assert errors(flow(flags=[])) == [("#/flags", "flags: array found, object expected")]
    assert errors(flow(**{"$schema": SCHEMA_URL})) == []
    assert errors(flow(**{"$schema": "http://json-schema.org/draft-07/schema#"})) == [
        ("#/$schema", f"$schema: must be a constant value {SCHEMA_URL}")
    ]


def test_unknown_top_level_keys_are_tolerated() -> None:
    # A Twilio-published template carries "status" and "timeout" at the top level.
    assert errors(flow(status="published", timeout=3600)) == []


# --- states ---------------------------------------------------------------------------------


def test_state_shape() -> None:
    assert errors(flow("oops")) == [("#/states/2", "state: string found, object expected")]
    assert errors(flow({})) == [
        ("#/states/2/name", "name is missing but it is required"),
        ("#/states/2/type", "type is missing but it is required"),
        ("#/states/2/properties", "properties is missing but it is required"),
        ("#/states/2/transitions", "transitions is missing but it is required"),
    ]
    bad = {"name": "", "type": 7, "properties": [], "transitions": {}}
    assert errors(flow(bad)) == [
        ("#/states/2/name", "name: must not be empty"),
        ("#/states/2/type", "type: integer found, string expected"),
        ("#/states/2/properties", "properties: array found, object expected"),
        ("#/states/2/transitions", "transitions: object found, array expected"),
    ]


def test_unknown_type_lists_the_enumeration() -> None:
    [(path, message)] = errors(wired(widget("w", "send-fax", {"offset": {"x": 0, "y": 0}})))
    assert path == "#/states/2/type"
    assert message.startswith("type: 'send-fax' does not have a value in the enumeration [")
    assert message.endswith("]")
    for widget_type in WIDGET_TYPES:
        assert widget_type in message


def test_unknown_type_skips_property_and_event_checks() -> None:
    state = widget("w", "send-fax", {"x": 1}, [{"event": "whatever", "next": "send"}])
    assert [p for p, _ in errors(wired(state))] == ["#/states/2/type"]


def test_duplicate_state_names() -> None:
    duplicate = copy.deepcopy(SEND)
    assert errors(flow(duplicate)) == [
        (
            "#/states/2/name",
            "name: 'send' is already used by #/states/1; state names must be unique",
        )
    ]


def test_exactly_one_trigger() -> None:
    no_trigger = flow()
    no_trigger["states"][0]["type"] = "set-variables"
    no_trigger["states"][0]["transitions"] = [{"event": "next", "next": "send"}]
    assert errors(no_trigger) == [
        ("#/states", "states: a flow must have exactly one trigger state, found none")
    ]
    second = copy.deepcopy(TRIGGER) | {"name": "Trigger2"}
    assert (
        "#/states/2/type",
        "type: a flow must have exactly one trigger state; #/states/0 is already the trigger",
    ) in errors(flow(second))


# --- properties -----------------------------------------------------------------------------


def test_required_property_missing() -> None:
    props = {"from": "+15005550006", "body": "hi"}
    assert prop_errors("send-message", props) == [
        ("#/states/2/properties/to", "to is missing but it is required")
    ]


def test_wrong_json_types_use_twilio_wording() -> None:
    assert prop_errors("gather-input-on-call", {"say": "Hi", "timeout": "5"}) == [
        ("#/states/2/properties/timeout", "timeout: string found, integer expected")
    ]
    assert prop_errors("gather-input-on-call", {"say": "Hi", "stop_gather": "true"}) == [
        ("#/states/2/properties/stop_gather", "stop_gather: string found, boolean expected")
    ]
    assert prop_errors("split-based-on", {"input": 5}) == [
        ("#/states/2/properties/input", "input: integer found, string expected")
    ]
    assert prop_errors("say-play", {"say": True}) == [
        ("#/states/2/properties/say", "say: boolean found, string expected")
    ]


def test_null_property_must_not_be_null() -> None:
    props = {"from": None, "to": "+15005550006", "body": "hi"}
    assert prop_errors("send-message", props) == [
        ("#/states/2/properties/from", "from: must not be null")
    ]


def test_numbers_and_booleans_stored_both_ways_where_studio_does() -> None:
    base = {"from": "{{flow.channel.address}}", "body": "Reply?"}
    assert prop_errors("send-and-wait-for-reply", base | {"timeout": "3600"}) == []
    assert prop_errors("send-and-wait-for-reply", base | {"timeout": 3600}) == []
    assert prop_errors("send-and-wait-for-reply", base | {"timeout": True}) == [
        ("#/states/2/properties/timeout", "timeout: boolean found, string or integer expected")
    ]


def test_enum_values() -> None:
    props = {"method": "PUT", "url": "https://example.com", "content_type": "application/json"}
    assert prop_errors("make-http-request", props) == [
        (
            "#/states/2/properties/method",
            "method: 'PUT' does not have a value in the enumeration [GET, POST]",
        )
    ]
    # The Console's charset suffix is part of a valid content type.
    props = {"method": "POST", "url": "https://x", "content_type": "application/json;charset=utf-8"}
    assert prop_errors("make-http-request", props) == []
    props["content_type"] = "text/xml"
    assert prop_errors("make-http-request", props) == [
        (
            "#/states/2/properties/content_type",
            "content_type: 'text/xml' does not have a value in the enumeration "
            "[application/x-www-form-urlencoded, application/json]",
        )
    ]
    assert prop_errors("connect-call-to", {"noun": "fax", "caller_id": "+1"}) == [
        (
            "#/states/2/properties/noun",
            "noun: 'fax' does not have a value in the enumeration "
            "[number, number-multi, client, conference, sim, sip]",
        )
    ]


def test_liquid_skips_literal_checks_and_blank_optionals_are_unset() -> None:
    props = {
        "method": "{{flow.data.method}}",
        "url": "{{flow.data.url}}",
        "content_type": "application/json",
    }
    assert prop_errors("make-http-request", props) == []
    assert prop_errors("record-voicemail", {"trim": "", "play_beep": "{{flow.data.beep}}"}) == []
    # Newer speech models exist, so that list only guides the form.
    assert prop_errors("gather-input-on-call", {"say": "Hi", "speech_model": "googlev2"}) == []


def test_numeric_ranges() -> None:
    assert prop_errors("gather-input-on-call", {"say": "Hi", "timeout": 31}) == [
        ("#/states/2/properties/timeout", "timeout: must have a maximum value of 30")
    ]
    assert prop_errors("say-play", {"say": "Hi", "loop": 0}) == [
        ("#/states/2/properties/loop", "loop: must have a minimum value of 1")
    ]
    assert prop_errors("record-voicemail", {"max_length": 14401}) == [
        ("#/states/2/properties/max_length", "max_length: must have a maximum value of 14400")
    ]


def test_numeric_strings_with_ranges() -> None:
    ok = {"url": "https://example.com/twiml", "timeout": "14400"}
    assert prop_errors("add-twiml-redirect", ok) == []
    assert prop_errors("add-twiml-redirect", ok | {"timeout": "{{flow.data.wait}}"}) == []
    assert prop_errors("add-twiml-redirect", ok | {"timeout": "20000"}) == [
        ("#/states/2/properties/timeout", "timeout: must have a maximum value of 14400")
    ]
    assert prop_errors("add-twiml-redirect", ok | {"timeout": "soon"}) == [
        ("#/states/2/properties/timeout", "timeout: 'soon' is not a whole number")
    ]
    call = {"from": "+1", "to": "+2", "machine_detection_timeout": "2"}
    assert prop_errors("make-outgoing-call-v2", call)[:1] == [
        (
            "#/states/2/properties/machine_detection_timeout",
            "machine_detection_timeout: must have a minimum value of 3",
        )
    ]


def test_numeric_strings_without_ranges() -> None:
    """Properties holding seconds as text refuse other text, as the ranged ones do."""
    ask = {"from": "+1", "body": "Hi?", "timeout": "3600"}
    assert prop_errors("send-and-wait-for-reply", ask) == []
    assert prop_errors("send-and-wait-for-reply", ask | {"timeout": 600}) == []
    assert prop_errors("send-and-wait-for-reply", ask | {"timeout": "{{flow.data.t}}"}) == []
    assert prop_errors("send-and-wait-for-reply", ask | {"timeout": "soon"}) == [
        ("#/states/2/properties/timeout", "timeout: 'soon' is not a whole number")
    ]
    flex = {"workflow": "WW1", "channel": "TC1", "timeout": "later"}
    assert ("#/states/2/properties/timeout", "timeout: 'later' is not a whole number") in (
        prop_errors("send-to-flex", flex)
    )
    assert prop_errors("connect-call-to", {"to": "+1", "time_limit": "long"})[-1:] == [
        ("#/states/2/properties/time_limit", "time_limit: 'long' is not a whole number")
    ]


def test_subflow_sid_must_be_literal() -> None:
    good = {"flow_sid": "FW" + "0" * 32, "flow_revision": "LatestPublished"}
    assert prop_errors("run-subflow", good) == []
    assert prop_errors("run-subflow", good | {"flow_revision": "7"}) == []
    assert prop_errors("run-subflow", good | {"flow_sid": "{{flow.data.sid}}"}) == [
        ("#/states/2/properties/flow_sid", "flow_sid: must be a valid, non-liquid flow sid")
    ]
    assert prop_errors("run-subflow", good | {"flow_sid": None}) == [
        ("#/states/2/properties/flow_sid", "flow_sid: must not be null")
    ]
    assert prop_errors("run-subflow", good | {"flow_revision": "Latest"}) == [
        (
            "#/states/2/properties/flow_revision",
            "flow_revision: must be a revision number, LatestPublished or LatestDraft",
        )
    ]


def test_key_value_arrays() -> None:
    props = {"url": "https://f.twil.io/x", "parameters": [{"key": "a", "value": "1"}, {"key": "b"}]}
    assert prop_errors("run-function", props) == [
        ("#/states/2/properties/parameters/1/value", "value is missing but it is required")
    ]
    assert prop_errors("set-variables", {"variables": {"a": "1"}}) == [
        ("#/states/2/properties/variables", "variables: object found, array expected")
    ]
    assert prop_errors("set-variables", {"variables": ["a=1"]}) == [
        ("#/states/2/properties/variables/0", "item: string found, object expected")
    ]
    typed = [{"key": "o", "value": "{}", "type": "json", "parse_as_json": True}]
    assert prop_errors("set-variables", {"variables": typed}) == []


def test_array_of_enum_items() -> None:
    props = {"valid_card_types": ["visa", "bitcoin"]}
    assert prop_errors("capture-payments", props) == [
        (
            "#/states/2/properties/valid_card_types/1",
            "card_type: 'bitcoin' does not have a value in the enumeration "
            "[visa, master-card, amex, maestro, discover, optima, jcb, diners-club, enroute]",
        )
    ]


def test_offset_fields() -> None:
    assert prop_errors("say-play", {"say": "Hi", "offset": {"x": "10", "y": 0}}) == [
        ("#/states/2/properties/offset/x", "x: string found, number expected")
    ]
    assert prop_errors("say-play", {"say": "Hi", "offset": {"x": 1.5, "y": -20}}) == []


def test_one_of_groups() -> None:
    assert prop_errors("say-play", {"voice": "alice"}) == [
        ("#/states/2/properties", "properties: one of say, play or digits is required for say-play")
    ]
    assert prop_errors("enqueue-call", {"wait_url_method": "GET"}) == [
        (
            "#/states/2/properties",
            "properties: one of queue_name or workflow_sid is required for enqueue-call",
        )
    ]
    template = {"from": "+1", "to": "+2", "message_type": "content_template", "content_sid": "HX1"}
    assert prop_errors("send-message", template) == []


def test_unknown_properties_are_tolerated() -> None:
    assert prop_errors("say-play", {"say": "Hi", "shiny_new_option": 1}) == []


# --- transitions ----------------------------------------------------------------------------


def test_event_must_belong_to_the_widget() -> None:
    definition = flow()
    definition["states"][1]["transitions"].append({"event": "delivered", "next": ""})
    assert errors(definition) == [
        (
            "#/states/1/transitions/2/event",
            "event: 'delivered' is not an event of send-message: must be a constant value sent "
            "or failed",
        )
    ]


def test_transition_shape() -> None:
    definition = flow()
    definition["states"][1]["transitions"] = [
        "sent",
        {"next": "send"},
        {"event": "sent", "next": None},
        {"event": "failed", "next": 3},
    ]
    assert errors(definition) == [
        ("#/states/1/transitions/0", "transition: string found, object expected"),
        ("#/states/1/transitions/1/event", "event is missing but it is required"),
        ("#/states/1/transitions/2/next", "next: must not be null"),
        ("#/states/1/transitions/3/next", "next: integer found, string expected"),
    ]


def split(*transitions: dict) -> dict:
    return widget(
        "split", "split-based-on", {"input": "{{trigger.message.Body}}"}, list(transitions)
    )


def condition(**overrides: object) -> dict:
    base = {
        "friendly_name": "If value equal_to 1",
        "arguments": ["{{trigger.message.Body}}"],
        "type": "equal_to",
        "value": "1",
    }
    return {k: v for k, v in (base | overrides).items() if v is not ...}


def test_split_conditions_are_valid() -> None:
    state = split(
        {"event": "noMatch"},
        {"event": "match", "next": "send", "conditions": [condition()]},
        {
            "event": "match",
            "next": "send",
            "conditions": [condition(type="is_blank", value="Is Blank")],
        },
    )
    assert errors(wired(state)) == []


def test_conditions_only_on_split_match() -> None:
    definition = flow()
    definition["states"][1]["transitions"][0]["conditions"] = [condition()]
    assert errors(definition) == [
        (
            "#/states/1/transitions/0/conditions",
            "conditions: only allowed on match transitions of split-based-on",
        )
    ]
    state = split({"event": "noMatch", "conditions": [condition()]})
    assert errors(wired(state)) == [
        (
            "#/states/2/transitions/0/conditions",
            "conditions: only allowed on match transitions of split-based-on",
        )
    ]


def test_match_needs_conditions() -> None:
    assert errors(wired(split({"event": "match", "next": "send"}))) == [
        ("#/states/2/transitions/0/conditions", "conditions is missing but it is required")
    ]
    assert errors(wired(split({"event": "match", "next": "send", "conditions": []}))) == [
        ("#/states/2/transitions/0/conditions", "conditions: must contain at least 1 condition")
    ]


def test_condition_shape_and_operator_enum() -> None:
    state = split(
        {"event": "match", "conditions": [condition(type=..., arguments="x")]},
        {"event": "match", "conditions": [condition(type="equals"), 5]},
    )
    result = errors(wired(state))
    assert result[:2] == [
        (
            "#/states/2/transitions/0/conditions/0/arguments",
            "arguments: string found, array expected",
        ),
        ("#/states/2/transitions/0/conditions/0/type", "type is missing but it is required"),
    ]
    path, message = result[2]
    assert path == "#/states/2/transitions/1/conditions/0/type"
    assert message == (
        "type: 'equals' does not have a value in the enumeration ["
        + ", ".join(CONDITION_OPERATORS)
        + "]"
    )
    assert result[3:] == [
        ("#/states/2/transitions/1/conditions/1", "condition: integer found, object expected")
    ]


def test_operator_cannot_be_liquid() -> None:
    state = split({"event": "match", "conditions": [condition(type="{{flow.data.op}}")]})
    assert [p for p, _ in errors(wired(state))] == ["#/states/2/transitions/0/conditions/0/type"]


# --- warnings -------------------------------------------------------------------------------


def test_dangling_next_is_a_warning() -> None:
    definition = flow()
    definition["states"][1]["transitions"][0]["next"] = "SaveToAirtable"
    report = validate_definition(definition)
    assert report.valid
    assert warnings(definition) == [
        (
            "#/states/1/transitions/0/next",
            "next: 'SaveToAirtable' does not name a state; the execution ends when this transition "
            "is taken",
        )
    ]


def test_empty_or_absent_next_ends_the_branch_quietly() -> None:
    definition = flow()
    definition["states"][1]["transitions"] = [{"event": "sent", "next": ""}, {"event": "failed"}]
    assert validate_definition(definition).warnings == []


def test_unreachable_states_are_warnings() -> None:
    definition = flow(widget("orphan", "set-variables", {}, [{"event": "next", "next": "send"}]))
    report = validate_definition(definition)
    assert report.valid
    assert warnings(definition) == [
        ("#/states/2", "state 'orphan' cannot be reached from the initial state 'Trigger'")
    ]


def test_duplicate_event_is_a_warning() -> None:
    definition = flow()
    definition["states"][1]["transitions"].append({"event": "sent", "next": "send"})
    assert errors(definition) == []
    assert warnings(definition) == [
        (
            "#/states/1/transitions/2/event",
            "event: 'sent' already has a transition at #/states/1/transitions/0; only the first "
            "one is followed",
        )
    ]


def test_rest_only_widget_reached_from_a_message_is_an_error() -> None:
    call = widget("call", "make-outgoing-call-v2", {"from": "+1", "to": "+2"})
    assert errors(wired(call)) == [
        (
            "#/states/2/type",
            "type: make-outgoing-call-v2 can only be used in flows triggered by the REST API, but "
            "it can be reached from the trigger's incomingMessage transition",
        )
    ]
    rest = wired(call)
    rest["states"][0]["transitions"] = [{"event": "incomingRequest", "next": "send"}]
    assert validate_definition(rest).warnings == validate_definition(rest).errors == []


# --- the widget table -----------------------------------------------------------------------


def test_widget_table_covers_every_studio_type() -> None:
    assert set(WIDGET_SPECS) == {
        "trigger",
        "split-based-on",
        "set-variables",
        "send-message",
        "send-and-wait-for-reply",
        "make-http-request",
        "run-function",
        "run-subflow",
        "add-twiml-redirect",
        "say-play",
        "gather-input-on-call",
        "connect-call-to",
        "make-outgoing-call-v2",
        "make-outgoing-call-v1",
        "record-voicemail",
        "record-call",
        "enqueue-call",
        "send-to-flex",
        "capture-payments",
        "fork-stream",
        "connect-virtual-agent",
        "connect-virtual-agent-v2",
        "send-to-auto-pilot",
        "start-conversation",
        "resume-conversation",
        "run-conversation-relay",
    }
    assert len(CONDITION_OPERATORS) == 17
    for widget_type, spec in WIDGET_SPECS.items():
        assert spec.type == widget_type
        assert spec.label and spec.events
        assert "offset" in spec.by_name
        assert all(p.label for p in spec.properties)


def test_events_for() -> None:
    assert events_for("run-function") == ("success", "fail")
    assert events_for("split-based-on") == ("match", "noMatch")
    assert events_for("trigger") == (
        "incomingMessage",
        "incomingCall",
        "incomingConversationMessage",
        "incomingRequest",
        "incomingParent",
    )
    with pytest.raises(KeyError):
        events_for("send-fax")


# --- the corpus of real flows ---------------------------------------------------------------


def _corpus_params() -> list:
    if not CORPUS_FILES:
        return [pytest.param(None, id="no-corpus")]
    return [pytest.param(path, id=path.name) for path in CORPUS_FILES]


@pytest.mark.parametrize("path", _corpus_params())
def test_corpus_flow_has_no_errors(path: Path | None) -> None:
    if path is None:
        pytest.skip("no corpus flow in tests/data/flows or ../shared/flows")
    report = validate_definition(json.loads(path.read_text(encoding="utf-8")))
    assert report.errors == CORPUS_ERRORS.get(path.name, []), INVALID_CORPUS_FLOWS.get(path.name)
    assert report.valid == (path.name not in INVALID_CORPUS_FLOWS)


def test_invalid_corpus_list_is_consistent() -> None:
    assert set(INVALID_CORPUS_FLOWS) == set(CORPUS_ERRORS)
    if CORPUS_FILES:
        assert set(INVALID_CORPUS_FLOWS) <= {p.name for p in CORPUS_FILES}


def test_corpus_dangling_next_is_reported_as_warning() -> None:
    path = shared_path("flows", DANGLING_FLOW)
    report = validate_definition(json.loads(path.read_text(encoding="utf-8")))
    assert report.valid
    dangling = [
        w for w in report.warnings if "'SaveToAirtable' does not name a state" in w["message"]
    ]
    assert dangling == [
        {
            "message": "next: 'SaveToAirtable' does not name a state; the execution ends when this "
            "transition is taken",
            "property_path": "#/states/13/transitions/0/next",
        }
    ]
