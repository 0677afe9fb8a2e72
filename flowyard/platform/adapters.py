"""Choosing the platform adapter from the settings."""

from __future__ import annotations

import sqlalchemy as sa

from flowyard.config import Settings
from flowyard.platform import Platform
from flowyard.platform.local import LocalPlatform


def build_platform(settings: Settings, db: sa.Engine) -> Platform:
    """``local`` (default) or ``twilio`` (FLOWYARD_PLATFORM)."""
    if settings.platform == "twilio":
        from flowyard.platform.twilio import TwilioPlatform

        return TwilioPlatform(settings, db)
    if settings.platform != "local":
        raise ValueError(f"unknown FLOWYARD_PLATFORM {settings.platform!r}: local or twilio")
    return LocalPlatform(db)
