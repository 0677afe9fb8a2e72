"""Voice widgets (studio-runtime.md 2.9-2.16, 2.18-2.20, 2.22)."""

from __future__ import annotations

from .base import (
    ARRAY,
    BOOLEAN,
    GET_POST,
    INTEGER,
    OBJECT,
    OFFSET,
    RECORDING_CHANNELS,
    STRING,
    TRIM,
    TRUE_FALSE,
    PropertySpec,
    WidgetSpec,
    boolean,
    choice,
    integer,
    key_values,
    text,
)

_SAY = text("say", "Text to say", "Liquid and SSML allowed.")
_PLAY = text("play", "Audio URL to play")
_VOICE = text("voice", "Voice", "e.g. alice, man, Polly.Joanna.")
_LANGUAGE = text("language", "Language", "e.g. en-US.")

ADD_TWIML_REDIRECT = WidgetSpec(
    "add-twiml-redirect",
    "TwiML Redirect",
    "voice",
    "Hands the call or message to external TwiML until it redirects back with FlowEvent=return.",
    events=("return", "timeout", "fail"),
    properties=(
        text("url", "URL", required=True),
        choice("method", "Method", GET_POST, default="POST"),
        text(
            "timeout",
            "Timeout",
            "Seconds to wait for the return; 0 = do not wait.",
            minimum=0,
            maximum=14400,
            default="14400",
        ),
        OFFSET,
    ),
)

SAY_PLAY = WidgetSpec(
    "say-play",
    "Say/Play",
    "voice",
    "Speaks text, plays audio or sends DTMF digits on the call.",
    events=("audioComplete",),
    properties=(
        _SAY,
        _PLAY,
        text("digits", "Digits", "DTMF tones to send."),
        _VOICE,
        _LANGUAGE,
        integer("loop", "Loop", "Times to repeat.", minimum=1, maximum=99, default=1),
        OFFSET,
    ),
    require_one_of=(("say", "play", "digits"),),
)

GATHER_INPUT_ON_CALL = WidgetSpec(
    "gather-input-on-call",
    "Gather Input On Call",
    "voice",
    "Prompts the caller and collects DTMF digits or speech.",
    events=("keypress", "speech", "timeout"),
    properties=(
        _SAY,
        _PLAY,
        _VOICE,
        _LANGUAGE,
        integer("loop", "Loop", "Times to repeat the prompt.", default=1),
        integer(
            "timeout",
            "Timeout",
            "Seconds of silence before timeout.",
            minimum=1,
            maximum=30,
            default=5,
        ),
        text("finish_on_key", "Stop gathering on key", "'' for none.", default="#"),
        integer("number_of_digits", "Number of digits", "Stop after this many digits."),
        boolean("stop_gather", "Stop prompt on keypress"),
        text("speech_timeout", "Speech timeout", "'auto' or seconds.", default="auto"),
        text("gather_language", "Speech recognition language", "e.g. en-US."),
        text("hints", "Speech hints", "Comma-separated words or phrases."),
        choice(
            "speech_model",
            "Speech model",
            ("default", "numbers_and_commands", "phone_call"),
            enum_strict=False,
        ),
        choice("profanity_filter", "Profanity filter", TRUE_FALSE, default="true"),
        OFFSET,
    ),
)

CONNECT_CALL_TO = WidgetSpec(
    "connect-call-to",
    "Connect Call To",
    "voice",
    "Dials a number, client, conference, SIM or SIP endpoint.",
    events=("callCompleted", "hangup"),
    properties=(
        choice(
            "noun",
            "Connect to",
            ("number", "number-multi", "client", "conference", "sim", "sip"),
            required=True,
        ),
        text("to", "Destination", "Number, comma list, client, conference, SIM or SIP URI."),
        text("caller_id", "Caller ID", required=True, default="{{contact.channel.address}}"),
        boolean("record", "Record"),
        integer("timeout", "Ring timeout", "Seconds."),
        text(
            "time_limit",
            "Time limit",
            "Maximum call length in seconds, as a string.",
            numeric=True,
        ),
        text("sip_endpoint", "SIP endpoint"),
        text("sip_username", "SIP username"),
        text("sip_password", "SIP password"),
        OFFSET,
    ),
)

_OUTGOING_CALL_PROPERTIES = (
    text("from", "From", required=True, default="{{flow.channel.address}}"),
    text("to", "To", required=True, default="{{contact.channel.address}}"),
    integer("timeout", "Ring timeout", "Seconds."),
    boolean("record", "Record call"),
    choice("recording_channels", "Recording channels", RECORDING_CHANNELS),
    text("recording_status_callback", "Recording status callback URL"),
    choice("trim", "Trim silence", TRIM),
    boolean("detect_answering_machine", "Detect answering machine"),
    choice("machine_detection", "Machine detection", ("Enable", "DetectMessageEnd")),
    text(
        "machine_detection_timeout",
        "Detection timeout",
        "Seconds, as a string.",
        minimum=3,
        maximum=120,
    ),
    text(
        "machine_detection_speech_threshold",
        "Speech threshold",
        "Milliseconds.",
        minimum=1000,
        maximum=6000,
    ),
    text(
        "machine_detection_speech_end_threshold",
        "Speech end threshold",
        "Milliseconds.",
        minimum=500,
        maximum=5000,
    ),
    text(
        "machine_detection_silence_timeout",
        "Silence timeout",
        "Milliseconds.",
        minimum=2000,
        maximum=10000,
    ),
    text("send_digits", "Send digits"),
    text("sip_auth_username", "SIP auth username"),
    text("sip_auth_password", "SIP auth password"),
    OFFSET,
)

MAKE_OUTGOING_CALL_V2 = WidgetSpec(
    "make-outgoing-call-v2",
    "Make Outgoing Call",
    "voice",
    "Places a call to the contact, turning a REST execution into a voice execution.",
    events=("answered", "busy", "noAnswer", "failed"),
    properties=_OUTGOING_CALL_PROPERTIES,
    rest_only=True,
)

MAKE_OUTGOING_CALL_V1 = WidgetSpec(
    "make-outgoing-call-v1",
    "Make Outgoing Call (legacy)",
    "voice",
    "Legacy outgoing call with separate machine and hang-up events.",
    events=("answered", "answeredByMachine", "busy", "noAnswer", "failed", "hangup"),
    properties=_OUTGOING_CALL_PROPERTIES,
    rest_only=True,
)

RECORD_VOICEMAIL = WidgetSpec(
    "record-voicemail",
    "Record Voicemail",
    "voice",
    "Records the caller until silence, a finish key or the maximum length.",
    events=("recordingComplete", "noAudio", "hangup"),
    properties=(
        integer("timeout", "Silence timeout", "Seconds.", default=5),
        text("finish_on_key", "Stop recording on key", default="#"),
        integer("max_length", "Maximum length", "Seconds.", minimum=1, maximum=14400, default=3600),
        boolean("transcribe", "Transcribe"),
        text("transcription_callback_url", "Transcription callback URL"),
        text("recording_status_callback_url", "Recording status callback URL"),
        choice("trim", "Trim silence", TRIM),
        choice("play_beep", "Play beep", TRUE_FALSE, default="true"),
        OFFSET,
    ),
)

RECORD_CALL = WidgetSpec(
    "record-call",
    "Call Recording",
    "voice",
    "Starts or stops recording the current call.",
    events=("success", "failed"),
    properties=(
        boolean("record_call", "Record call", "true starts, false stops.", required=True),
        text("recording_status_callback", "Recording status callback URL"),
        choice("recording_status_callback_method", "Callback method", GET_POST),
        text(
            "recording_status_callback_events",
            "Callback events",
            "Space-separated: in-progress completed absent.",
        ),
        choice("recording_channels", "Recording channels", RECORDING_CHANNELS),
        choice("trim", "Trim silence", TRIM),
        OFFSET,
    ),
)

ENQUEUE_CALL = WidgetSpec(
    "enqueue-call",
    "Enqueue Call",
    "voice",
    "Puts the call in a queue or a TaskRouter workflow.",
    events=("callComplete", "failedToEnqueue", "callFailure"),
    properties=(
        text("queue_name", "Queue name"),
        text("workflow_sid", "TaskRouter workflow", "WW... SID."),
        text("task_attributes", "Task attributes", "JSON string."),
        integer("priority", "Task priority"),
        integer("timeout", "Task timeout", "Seconds."),
        text("wait_url", "Hold music TwiML URL"),
        choice("wait_url_method", "Hold music method", GET_POST),
        OFFSET,
    ),
    require_one_of=(("queue_name", "workflow_sid"),),
)

CAPTURE_PAYMENTS = WidgetSpec(
    "capture-payments",
    "Capture Payments",
    "voice",
    "Collects card or bank details with <Pay>.",
    events=(
        "success",
        "maxFailedAttempts",
        "providerError",
        "payInterrupted",
        "hangup",
        "validationError",
    ),
    properties=(
        text("payment_connector", "Payment connector"),
        text("payment_amount", "Amount"),
        text("currency", "Currency"),
        text("description", "Description"),
        choice("payment_method", "Payment method", ("CREDIT_CARD", "ACH_DEBIT")),
        choice(
            "bank_account_type",
            "Bank account type",
            (
                "CONSUMER_CHECKING",
                "CONSUMER_SAVINGS",
                "COMMERCIAL_CHECKING",
                "COMMERCIAL_SAVINGS",
            ),
        ),
        choice("payment_token_type", "Token type", ("one-time", "reusable")),
        PropertySpec(
            "valid_card_types",
            "Accepted cards",
            kinds=(ARRAY,),
            items=choice(
                "card_type",
                "Card type",
                (
                    "visa",
                    "master-card",
                    "amex",
                    "maestro",
                    "discover",
                    "optima",
                    "jcb",
                    "diners-club",
                    "enroute",
                ),
            ),
        ),
        boolean("security_code", "Ask for security code"),
        choice("postal_code", "Ask for postal code", TRUE_FALSE),
        integer("min_postal_code_length", "Minimum postal code length"),
        integer("timeout", "Timeout", "Seconds."),
        integer("max_attempts", "Maximum attempts"),
        _LANGUAGE,
        key_values("parameters", "Connector parameters", "Passed to the payment connector."),
        OFFSET,
    ),
)

FORK_STREAM = WidgetSpec(
    "fork-stream",
    "Fork Stream",
    "voice",
    "Starts or stops streaming the call's audio to a WebSocket or SIPREC endpoint.",
    events=("next",),
    properties=(
        choice("stream_action", "Action", ("start", "stop"), required=True),
        text("stream_name", "Stream name"),
        choice("stream_transport_type", "Transport", ("websocket", "siprec")),
        text("stream_url", "Stream URL", "wss:// URL for WebSocket streams."),
        text("stream_connector", "SIPREC connector"),
        choice("stream_track", "Tracks", ("inbound_track", "outbound_track", "both_tracks")),
        key_values("stream_parameters", "Stream parameters", "Custom parameters."),
        OFFSET,
    ),
)

CONNECT_VIRTUAL_AGENT = WidgetSpec(
    "connect-virtual-agent",
    "Connect Virtual Agent",
    "voice",
    "Connects the call to a Dialogflow ES agent via <Connect><VirtualAgent>.",
    events=("return", "hangup"),
    properties=(
        text("connector", "Connector", required=True),
        _LANGUAGE,
        choice("sentiment_analysis", "Sentiment analysis", TRUE_FALSE),
        text("status_callback", "Status callback URL"),
        OFFSET,
    ),
)

# Described only by Twilio's agent-skill catalogue: types it leaves open accept several kinds.
CONNECT_VIRTUAL_AGENT_V2 = WidgetSpec(
    "connect-virtual-agent-v2",
    "Connect Virtual Agent (v2)",
    "voice",
    "Connects the call or conversation to a virtual agent connector.",
    events=("completed", "live-agent-handoff", "hangup", "failed", "paused", "timeout"),
    properties=(
        choice("channel", "Channel", ("voice", "conversations"), enum_strict=False),
        text("connector_name", "Connector name"),
        text("session_behavior", "Session behaviour"),
        text("resume_session_identification_method", "Resume session by"),
        choice("status_callback_method", "Status callback method", GET_POST, enum_strict=False),
        PropertySpec("timeout", "Timeout", "Seconds.", kinds=(INTEGER, STRING)),
        PropertySpec("configurations", "Configurations", kinds=(ARRAY, OBJECT, STRING)),
        key_values("parameters", "Parameters", "Passed to the virtual agent."),
        OFFSET,
    ),
)

RUN_CONVERSATION_RELAY = WidgetSpec(
    "run-conversation-relay",
    "Conversation Relay",
    "voice",
    "Connects the call to a WebSocket AI application via <Connect><ConversationRelay>.",
    events=("success", "failed"),
    properties=(
        text("url", "WebSocket URL", "wss:// URL of the application."),
        text("welcome_greeting", "Welcome greeting"),
        text("tts_provider", "Text-to-speech provider"),
        _VOICE,
        _LANGUAGE,
        text("transcription_provider", "Transcription provider"),
        text("speech_model", "Speech model"),
        PropertySpec("dtmf_detection", "DTMF detection", kinds=(STRING, BOOLEAN)),
        PropertySpec("interruptible", "Interruptible", kinds=(STRING, BOOLEAN)),
        key_values("parameters", "Custom parameters", "Sent to the application on setup."),
        OFFSET,
    ),
)

VOICE_WIDGETS: tuple[WidgetSpec, ...] = (
    ADD_TWIML_REDIRECT,
    SAY_PLAY,
    GATHER_INPUT_ON_CALL,
    CONNECT_CALL_TO,
    MAKE_OUTGOING_CALL_V2,
    MAKE_OUTGOING_CALL_V1,
    RECORD_VOICEMAIL,
    RECORD_CALL,
    ENQUEUE_CALL,
    CAPTURE_PAYMENTS,
    FORK_STREAM,
    CONNECT_VIRTUAL_AGENT,
    CONNECT_VIRTUAL_AGENT_V2,
    RUN_CONVERSATION_RELAY,
)
