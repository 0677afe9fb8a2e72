"""Line editing and history for ``flowyard chat`` in a terminal (Python's ``readline``)."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

_ANSI = re.compile(r"(\x1b\[[0-9;]*[A-Za-z])")
HISTORY_LENGTH = 1000


def history_file() -> Path:
    """Where typed lines are kept between sessions (XDG_DATA_HOME moves it, on Linux)."""
    from platformdirs import user_data_path

    return user_data_path("flowyard") / "chat_history"


def enable(path: Path | None = None) -> Callable[[], None] | None:
    """Turn on editing and ↑/↓ history for ``input()`` when stdin is a terminal; the history
    is read from ``path`` now and saved by the function returned. None where there is no
    terminal or no readline (Windows without pyreadline): lines are read plainly then."""
    if not sys.stdin.isatty():
        return None
    try:
        import readline
    except ImportError:
        return None
    target = path or history_file()
    with contextlib.suppress(OSError):  # the first session: no history yet
        readline.read_history_file(target)
    readline.set_history_length(HISTORY_LENGTH)

    def save() -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(target)
        except OSError:
            pass  # a read-only home must not spoil the session's ending

    return save


def prompt_for_readline(console: Console, markup: str) -> str:
    """``markup`` as terminal text, colour codes bracketed by \\001/\\002 so readline knows
    they take no room: otherwise it miscounts the prompt and redraws edited lines wrongly."""
    with console.capture() as captured:
        console.print(markup, end="")
    return _ANSI.sub(lambda m: f"\001{m.group(1)}\002", captured.get())
