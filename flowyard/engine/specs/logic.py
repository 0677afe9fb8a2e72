"""Trigger, flow-control and integration widgets (studio-runtime.md 2.1-2.3, 2.6-2.8, 3.1)."""

from __future__ import annotations

from .base import (
    ARRAY,
    GET_POST,
    OBJECT,
    OFFSET,
    STRING,
    PropertySpec,
    WidgetSpec,
    boolean,
    choice,
    key_values,
    text,
)

CONDITION_OPERATORS: tuple[str, ...] = (
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
)

# One element of a split ``match`` transition's ``conditions``; all four keys are required.
CONDITION = PropertySpec(
    "condition",
    "Condition",
    "A test on the split's input; every condition of a match must hold.",
    kinds=(OBJECT,),
    fields=(
        text(
            "friendly_name",
            "Label",
            "Shown on the canvas, e.g. 'If value equal_to 1'.",
            required=True,
        ),
        PropertySpec(
            "arguments",
            "Arguments",
            "Values under test; the Console stores [<the split's input>].",
            kinds=(ARRAY,),
            required=True,
            items=text("argument", "Argument"),
        ),
        choice("type", "Operator", CONDITION_OPERATORS, required=True, liquid=False),
        text(
            "value",
            "Value",
            "Compared with the input; may contain Liquid. Ignored by is_blank / is_not_blank.",
            required=True,
        ),
    ),
)

TRIGGER = WidgetSpec(
    "trigger",
    "Trigger",
    "logic",
    "Where every execution starts; one per flow.",
    events=(
        "incomingMessage",
        "incomingCall",
        "incomingConversationMessage",
        "incomingRequest",
        "incomingParent",
    ),
    properties=(OFFSET,),
)

SPLIT_BASED_ON = WidgetSpec(
    "split-based-on",
    "Split Based On...",
    "logic",
    "Branches on conditions tested against a Liquid input.",
    events=("match", "noMatch"),
    properties=(
        text(
            "input", "Variable to test", "Liquid expression whose value is tested.", required=True
        ),
        OFFSET,
    ),
)

SET_VARIABLES = WidgetSpec(
    "set-variables",
    "Set Variables",
    "logic",
    "Stores values under flow.variables and widgets.<name>.",
    events=("next",),
    properties=(
        key_values("variables", "Variables", "Keys and Liquid values to store.", typed=True),
        OFFSET,
    ),
)

MAKE_HTTP_REQUEST = WidgetSpec(
    "make-http-request",
    "Make HTTP Request",
    "integration",
    "Calls a URL; 2xx within 10 s goes to success.",
    events=("success", "failed"),
    properties=(
        choice("method", "Request method", GET_POST, required=True),
        text("url", "Request URL", "Liquid allowed; basic auth may be embedded.", required=True),
        choice(
            "content_type",
            "Content type",
            ("application/x-www-form-urlencoded", "application/json"),
            "Console writes a ';charset=utf-8' suffix.",
            required=True,
            media_type=True,
        ),
        text("body", "Request body", "Template sent as the body of a POST."),
        key_values("parameters", "HTTP parameters", "Query or form parameters."),
        boolean("add_twilio_auth", "Add Twilio auth", "Send the account's credentials."),
        OFFSET,
    ),
)

RUN_FUNCTION = WidgetSpec(
    "run-function",
    "Run Function",
    "integration",
    "Calls a Twilio Function; 2xx within 10 s goes to success.",
    events=("success", "fail"),
    properties=(
        text("url", "Function URL", required=True),
        text("service_sid", "Service SID", "ZS... of the Functions service."),
        text("environment_sid", "Environment SID", "ZE... of the environment."),
        text("function_sid", "Function SID", "ZH... of the function."),
        key_values("parameters", "Function parameters", "Passed to the Function's event."),
        OFFSET,
    ),
)

RUN_SUBFLOW = WidgetSpec(
    "run-subflow",
    "Run Subflow",
    "integration",
    "Runs another flow inside this execution, then continues on completed.",
    events=("completed", "failed"),
    properties=(
        PropertySpec(
            "flow_sid",
            "Subflow",
            "SID of the flow to run; resolved when the flow is saved.",
            required=True,
            liquid=False,
            pattern=r"FW[0-9a-fA-F]{32}",
            pattern_message="must be a valid, non-liquid flow sid",
        ),
        PropertySpec(
            "flow_revision",
            "Subflow revision",
            "A revision number, LatestPublished or LatestDraft.",
            kinds=(STRING,),
            required=True,
            pattern=r"LatestPublished|LatestDraft|[0-9]+",
            pattern_message="must be a revision number, LatestPublished or LatestDraft",
        ),
        key_values("parameters", "Parameters", "Exposed as trigger.parent.parameters.", typed=True),
        OFFSET,
    ),
)

LOGIC_WIDGETS: tuple[WidgetSpec, ...] = (
    TRIGGER,
    SPLIT_BASED_ON,
    SET_VARIABLES,
    MAKE_HTTP_REQUEST,
    RUN_FUNCTION,
    RUN_SUBFLOW,
)
