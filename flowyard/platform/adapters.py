"""Choosing the platform adapter from the settings."""

from __future__ import annotations

from flowyard.config import Settings
from flowyard.platform import Platform
from flowyard.platform.local import LocalPlatform


def build_platform(settings: Settings) -> Platform:
    """``local`` (default) or ``twilio`` (FLOWYARD_PLATFORM)."""
    if settings.platform == "twilio":
        from flowyard.platform.twilio import TwilioPlatform

        return TwilioPlatform(settings)
    if settings.platform != "local":
        raise ValueError(f"unknown FLOWYARD_PLATFORM {settings.platform!r}: local or twilio")
    return LocalPlatform()
