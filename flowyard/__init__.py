"""Flowyard: run Twilio Studio flows anywhere."""

__version__ = "0.1.0"
