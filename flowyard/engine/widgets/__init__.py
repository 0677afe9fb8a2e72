"""Widget handlers, one module per Studio ``type``.

Every module in this package (except ``base`` and private ``_`` helpers) is imported here,
and its ``@register`` classes fill ``WIDGETS``: adding a widget type is adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil

# The spec table first: it reads the specs some widget modules keep beside their behaviour,
# which needs every module it names whole before any widget module asks for the spec blocks.
from .. import specs as _specs  # noqa: F401
from .base import WIDGETS, Widget, register


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def widget_for(widget_type: str) -> Widget | None:
    """The handler registered for a Studio ``type``, or None."""
    return WIDGETS.get(widget_type)


_load_all()

__all__ = ["WIDGETS", "Widget", "register", "widget_for"]
