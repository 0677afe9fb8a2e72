"""Settings, read from the environment and overridden by the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass


class ConfigError(ValueError):
    """A setting with a value Flowyard cannot use; the message names it and what it takes."""


def default_database_url() -> str:
    """SQLite in the user's data directory (``~/.local/share/flowyard`` on Linux), so every
    command finds the same database wherever it is run from."""
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('flowyard') / 'flowyard.db'}"


def _raw(name: str) -> str | None:
    raw = os.environ.get(name)
    return raw.strip() if raw and raw.strip() else None


def _int_env(name: str, default: int, minimum: int = 0) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number, e.g. {default}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: expected {minimum} or more")
    return value


def _float_env(name: str, default: float, minimum: float = 0.0) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number, e.g. {default:g}") from None
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{name}={raw!r}: expected a number of {minimum:g} or more")
    return value


def _flag_env(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: expected on or off (true/false, 1/0, yes/no)")


@dataclass
class Settings:
    """Everything a Flowyard process needs to know at start."""

    database_url: str = ""
    public_url: str | None = None
    account_sid: str | None = None
    auth_token: str | None = None
    max_body_bytes: int = 1024 * 1024
    validate_signatures: bool = True
    platform: str = "local"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str | None = None
    twilio_workspace_sid: str | None = None
    timer_interval: float = 1.0
    # How long a process holds an execution without renewing its lease: after a crash, its
    # executions are taken over by another process this long after its last heartbeat.
    lease_seconds: float = 30.0
    auth_failures_per_address: int = 30
    auth_failures_per_sid: int = 10
    # Outbound policy for flow-controlled URLs (platform.outbound): comma-separated CIDRs,
    # addresses and host names, added to the built-in denials / winning over any denial.
    http_deny: str | None = None
    http_allow: str | None = None
    # Studio ends an execution 30 days after it started; shorter lifetimes suit tests.
    execution_lifetime: float = 30 * 24 * 3600.0
    # Executions (and messages, calls, alerts) older than this many days are deleted; 0 keeps.
    retention_days: float = 30.0
    # Run Function widgets given by SIDs: JSON object (or a file of one), SID or name -> URL.
    functions: str | None = None
    # GET /metrics, the request timing middleware and the runtime's counters; off: none of them.
    metrics: bool = True
    # flowyard.logs: "text" or "json"; a level name; one flowyard.access line per request.
    log_format: str = "text"
    log_level: str = "info"
    access_log: bool = True
    # Event Streams: the longest wait between two attempts at a failing sink, and how many
    # failures in a row mark it ``failed`` (docs/event-streams.md).
    events_max_backoff: float = 300.0
    events_fail_after: int = 10

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from ``FLOWYARD_*`` variables; keyword overrides win when not None."""
        settings = cls(
            database_url=_raw("FLOWYARD_DATABASE_URL") or "",
            public_url=_raw("FLOWYARD_PUBLIC_URL"),
            account_sid=_raw("FLOWYARD_ACCOUNT_SID"),
            auth_token=_raw("FLOWYARD_AUTH_TOKEN"),
            max_body_bytes=_int_env("FLOWYARD_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            validate_signatures=_flag_env("FLOWYARD_VALIDATE_SIGNATURES", True),
            platform=_raw("FLOWYARD_PLATFORM") or "local",
            twilio_account_sid=_raw("FLOWYARD_TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_raw("FLOWYARD_TWILIO_AUTH_TOKEN"),
            twilio_api_url=_raw("FLOWYARD_TWILIO_API_URL"),
            twilio_workspace_sid=_raw("FLOWYARD_TWILIO_WORKSPACE_SID"),
            timer_interval=_float_env("FLOWYARD_TIMER_INTERVAL", 1.0, minimum=0.01),
            lease_seconds=_float_env("FLOWYARD_LEASE_SECONDS", 30.0, minimum=0.5),
            auth_failures_per_address=_int_env("FLOWYARD_AUTH_FAILURES_PER_ADDRESS", 30),
            auth_failures_per_sid=_int_env("FLOWYARD_AUTH_FAILURES_PER_SID", 10),
            http_deny=_raw("FLOWYARD_HTTP_DENY"),
            http_allow=_raw("FLOWYARD_HTTP_ALLOW"),
            execution_lifetime=_float_env(
                "FLOWYARD_EXECUTION_LIFETIME", 30 * 24 * 3600.0, minimum=1.0
            ),
            retention_days=_float_env("FLOWYARD_RETENTION_DAYS", 30.0),
            metrics=_flag_env("FLOWYARD_METRICS", True),
            functions=_raw("FLOWYARD_FUNCTIONS"),
            log_format=(_raw("FLOWYARD_LOG_FORMAT") or "text").lower(),
            log_level=(_raw("FLOWYARD_LOG_LEVEL") or "info").lower(),
            access_log=_flag_env("FLOWYARD_ACCESS_LOG", True),
            events_max_backoff=_float_env("FLOWYARD_EVENTS_MAX_BACKOFF", 300.0, minimum=0.1),
            events_fail_after=_int_env("FLOWYARD_EVENTS_FAIL_AFTER", 10, minimum=1),
        )
        if settings.log_format not in ("text", "json"):
            raise ConfigError(f"FLOWYARD_LOG_FORMAT={settings.log_format!r}: expected text or json")
        if settings.log_level not in ("critical", "error", "warning", "info", "debug", "trace"):
            raise ConfigError(
                f"FLOWYARD_LOG_LEVEL={settings.log_level!r}: expected critical, error, warning, "
                "info, debug or trace"
            )
        if settings.platform not in ("local", "twilio"):
            raise ConfigError(f"FLOWYARD_PLATFORM={settings.platform!r}: expected local or twilio")
        for key, value in overrides.items():
            if value is not None:
                setattr(settings, key, value)
        if not settings.database_url:
            settings.database_url = default_database_url()
        return settings
