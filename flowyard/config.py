"""Settings, read from the environment and overridden by the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///flowyard.db"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _flag_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if not raw else raw.lower() not in ("0", "false", "no", "off")


@dataclass
class Settings:
    """Everything a Flowyard process needs to know at start."""

    database_url: str = DEFAULT_DATABASE_URL
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
    # GET /metrics, the request timing middleware and the runtime's counters; off: none of them.
    metrics: bool = True
    # Event Streams: the longest wait between two attempts at a failing sink, and how many
    # failures in a row mark it ``failed`` (docs/event-streams.md).
    events_max_backoff: float = 300.0
    events_fail_after: int = 10

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from ``FLOWYARD_*`` variables; keyword overrides win when not None."""
        settings = cls(
            database_url=os.environ.get("FLOWYARD_DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=os.environ.get("FLOWYARD_PUBLIC_URL") or None,
            account_sid=os.environ.get("FLOWYARD_ACCOUNT_SID") or None,
            auth_token=os.environ.get("FLOWYARD_AUTH_TOKEN") or None,
            max_body_bytes=_int_env("FLOWYARD_MAX_BODY_BYTES", 1024 * 1024),
            validate_signatures=os.environ.get("FLOWYARD_VALIDATE_SIGNATURES", "true").lower()
            not in ("0", "false", "no", "off"),
            platform=os.environ.get("FLOWYARD_PLATFORM", "local"),
            twilio_account_sid=os.environ.get("FLOWYARD_TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=os.environ.get("FLOWYARD_TWILIO_AUTH_TOKEN") or None,
            twilio_api_url=os.environ.get("FLOWYARD_TWILIO_API_URL") or None,
            twilio_workspace_sid=os.environ.get("FLOWYARD_TWILIO_WORKSPACE_SID") or None,
            timer_interval=float(os.environ.get("FLOWYARD_TIMER_INTERVAL") or 1.0),
            lease_seconds=float(os.environ.get("FLOWYARD_LEASE_SECONDS") or 30.0),
            auth_failures_per_address=_int_env("FLOWYARD_AUTH_FAILURES_PER_ADDRESS", 30),
            auth_failures_per_sid=_int_env("FLOWYARD_AUTH_FAILURES_PER_SID", 10),
            http_deny=os.environ.get("FLOWYARD_HTTP_DENY") or None,
            http_allow=os.environ.get("FLOWYARD_HTTP_ALLOW") or None,
            execution_lifetime=float(
                os.environ.get("FLOWYARD_EXECUTION_LIFETIME") or 30 * 24 * 3600.0
            ),
            retention_days=float(os.environ.get("FLOWYARD_RETENTION_DAYS") or 30.0),
            metrics=_flag_env("FLOWYARD_METRICS", True),
            events_max_backoff=float(os.environ.get("FLOWYARD_EVENTS_MAX_BACKOFF") or 300.0),
            events_fail_after=_int_env("FLOWYARD_EVENTS_FAIL_AFTER", 10),
        )
        for key, value in overrides.items():
            if value is not None:
                setattr(settings, key, value)
        if settings.retention_days < 0:
            raise ValueError("FLOWYARD_RETENTION_DAYS must be 0 (keep everything) or more")
        return settings
