"""What the access log and metrics cost on fetch, for bench/api.py.

The same Flowyard on the same SQLite file runs once per setting (``on`` is the default: an
access line per request and ``/metrics``); fetch rounds alternate between them, reversing the
order every other round so drift on a shared machine falls on each alike. The verdict compares
``on`` with both off: the cost must be at most 10% of fetch throughput.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TARGET = 0.90  # fetch req/s with access log and metrics on / with both off, at least

# FLOWYARD_METRICS only matters once /metrics exists; until then its servers are alike.
SETTINGS: dict[str, dict[str, str]] = {
    "on": {},
    "access log off": {"FLOWYARD_ACCESS_LOG": "off"},
    "metrics off": {"FLOWYARD_METRICS": "off"},
    "both off": {"FLOWYARD_ACCESS_LOG": "off", "FLOWYARD_METRICS": "off"},
}


@dataclass
class Variant:
    """One setting's server and its fetch results (bench/api.py ``Result``s)."""

    name: str
    env: dict[str, str]
    server: Any = None
    fetch: list[Any] = field(default_factory=list)


def variants() -> list[Variant]:
    return [Variant(name, env) for name, env in SETTINGS.items()]


def measure(runs: list[Variant], fetch: Callable[[Variant], Any], rounds: int) -> None:
    """``rounds`` rounds of one fetch run per variant, in alternating order."""
    for n in range(rounds):
        print(f"access log / metrics round {n + 1} of {rounds} (alternating)", flush=True)
        for variant in runs if n % 2 == 0 else runs[::-1]:
            variant.fetch.append(fetch(variant))


def _ratios(on: Variant, off: Variant) -> tuple[float, list[float], float | None]:
    per_round = [a.rps / b.rps for a, b in zip(on.fetch, off.fetch, strict=True)]
    cpu = [b.cpu_us / a.cpu_us for a, b in zip(on.fetch, off.fetch, strict=True) if a.cpu_us]
    return statistics.median(per_round), per_round, statistics.median(cpu) if cpu else None


def ratio_lines(runs: list[Variant]) -> list[list[str]]:
    """Rows ``[ratio, value, target, note]``: the verdict on both, then each alone."""
    by_name = {v.name: v for v in runs}
    on = by_name["on"]
    lines = []
    for off, what in (
        ("both off", "access log + metrics"),
        ("access log off", "access log"),
        ("metrics off", "metrics"),
    ):
        ratio, per_round, cpu = _ratios(on, by_name[off])
        verdict = "information"
        if off == "both off":
            verdict = f">= {TARGET:.2f}  {'PASS' if ratio >= TARGET else 'FAIL'}"
        cost = f"cost {(1 - ratio) * 100:+.1f}% of req/s"
        rounds = ", ".join(f"{r:.2f}" for r in per_round)
        note = f"{cost}; median of rounds {rounds}"
        if cpu is not None:
            note += f"; CPU/req off / on {cpu:.2f}x"
        lines.append([f"fetch req/s, {what} on / off", f"{ratio:.2f}x", verdict, note])
    return lines


def result_rows(runs: list[Variant], row: Callable[[str, Any], list[str]]) -> list[list[str]]:
    """One table row per variant (its median run), made by bench/api.py's ``result_row``."""
    rows = []
    for variant in runs:
        median = sorted(variant.fetch, key=lambda r: r.rps)[(len(variant.fetch) - 1) // 2]
        rows.append(row(f"fetch  flowyard sqlite, {variant.name}", median))
    return rows


def errors(runs: list[Variant]) -> int:
    return sum(r.errors for v in runs for r in v.fetch)
