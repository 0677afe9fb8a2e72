"""One line for the errors people make every day, instead of a traceback."""

from __future__ import annotations

import re


class UserError(Exception):
    """A mistake of the command line's user, said in one line (the message)."""


def one_line(exc: BaseException) -> str | None:
    """What to tell the user about ``exc``; None for a bug (its traceback is shown)."""
    from flowyard.config import ConfigError

    if isinstance(exc, ConfigError | UserError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a directory"
    if isinstance(exc, PermissionError):
        return f"{exc.filename}: permission denied"
    if isinstance(exc, UnicodeDecodeError):
        return f"not a text file: {exc.reason}"
    name = type(exc).__module__ + "." + type(exc).__qualname__
    if name.startswith(("httpx.", "requests.exceptions.")) and "Error" in name:
        # httpx (import/export to Flowyard) or requests (the twilio SDK underneath).
        request = getattr(exc, "_request", None) or getattr(exc, "request", None)
        where = f" {request.url}" if request is not None else ""
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
        return f"cannot reach{where}: {reason.group(1) if reason else exc}"
    if name.startswith("twilio.base.exceptions.TwilioRestException"):
        return f"the server refused: HTTP {exc.status} {exc.msg} (code {exc.code})"  # type: ignore[attr-defined]
    if name.startswith("sqlalchemy.exc.") and "OperationalError" in name:
        return f"cannot use the database: {str(exc.orig).splitlines()[0]}"  # type: ignore[attr-defined]
    return None
