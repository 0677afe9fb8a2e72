"""Garbage-collector settings for a long-running server.

CPython's full collections walk every tracked object. A server holds tens of thousands of
long-lived ones (routes, compiled statements, parsed flows and templates), so each full pass
took 50 to 70 ms with nothing to free: a pause of the whole event loop, several times a second
under load, which is what a request's p99 latency was made of. Freezing what exists once the
app has started takes those objects out of every later pass, and a larger first generation
makes the passes rarer; garbage made while serving is still collected.
"""

from __future__ import annotations

import gc

FIRST_GENERATION = 10_000  # allocations between young collections (CPython's default: 700)
_settled = False


def settle() -> None:
    """Collect once, freeze what survives, and space the collections out; once a process."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION, middle, old)
