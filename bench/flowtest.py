"""How long ``flowyard test`` takes on 100 test files of a 20-widget flow, with and without
``--coverage``.

Generates the flow and the tests in a temporary directory and runs the real command in a
subprocess (interpreter start-up included), alternating plain and ``--coverage`` runs, and
prints the median wall times and their ratio. Targets: under 5 s; coverage at most 20 % more.

    python bench/flowtest.py [--files 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MSG = {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


def state(name: str, type_: str, transitions: list, **props: object) -> dict:
    return {"name": name, "type": type_, "transitions": transitions, "properties": props}


def flow() -> dict:
    """Trigger, a lookup, four rounds of question / split / note / answer, a summary and a
    goodbye: 20 widgets."""
    states = [
        state("Trigger", "trigger", [{"event": "incomingMessage", "next": "Lookup"}]),
        state(
            "Lookup",
            "make-http-request",
            [{"event": "success", "next": "Ask_1"}, {"event": "failed", "next": "Ask_1"}],
            method="GET",
            url="https://crm.example.com/contacts/{{contact.channel.address}}",
            content_type="application/json",
        ),
    ]
    for i in range(1, 5):
        last = i == 4
        nxt = "Summary" if last else f"Ask_{i + 1}"
        states += [
            state(
                f"Ask_{i}",
                "send-and-wait-for-reply",
                [
                    {"event": "incomingMessage", "next": f"Check_{i}"},
                    {"event": "timeout", "next": nxt},
                ],
                body=f"Q{i}, {{{{widgets.Lookup.parsed.name}}}}: yes or no?",
                timeout="3600",
                **{"from": "{{flow.channel.address}}"},
            ),
            state(
                f"Check_{i}",
                "split-based-on",
                [
                    {"event": "noMatch", "next": f"No_{i}"},
                    {
                        "event": "match",
                        "next": f"Note_{i}",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": [f"{{{{widgets.Ask_{i}.inbound.Body}}}}"],
                                "type": "equal_to",
                                "value": "yes",
                            }
                        ],
                    },
                ],
                input=f"{{{{widgets.Ask_{i}.inbound.Body | downcase}}}}",
            ),
            state(
                f"Note_{i}",
                "set-variables",
                [{"event": "next", "next": nxt}],
                variables=[{"key": f"q{i}", "value": "yes"}],
            ),
            state(
                f"No_{i}", "send-message", [{"event": "sent", "next": nxt}], body="Noted.", **MSG
            ),
        ]
    states.append(
        state(
            "Summary",
            "set-variables",
            [{"event": "next", "next": "Goodbye"}],
            variables=[{"key": "done", "value": "{{flow.variables | size}}"}],
        )
    )
    states.append(state("Goodbye", "send-message", [{"event": "sent"}], body="Thanks!", **MSG))
    assert len(states) == 20
    return {"description": "bench", "initial_state": "Trigger", "states": states, "flags": {}}


def test_file(n: int) -> dict:
    steps: list[dict] = [{"expect": {"sent": "Q1, Ada: yes or no?"}}]
    for i in range(1, 5):
        if (n + i) % 3 == 0:
            steps.append({"advance": 3600})
        else:
            steps.append({"reply": "yes" if (n + i) % 2 else "no"})
    steps.append({"expect": {"status": "ended", "path": ["Lookup", "Ask_1", "Ask_4", "Goodbye"]}})
    return {
        "name": f"survey {n}",
        "flow": "survey.json",
        "mocks": {"Lookup": [{"status": 200, "body": {"name": "Ada"}}]},
        "trigger": {"message": "start"},
        "steps": steps,
    }


def _inner(stdout: str) -> float:
    """The suite's own time, as the command reports it ("... in 0.06s")."""
    found = re.search(r"passed, \d+ failed in ([0-9.]+)s", stdout)
    return float(found.group(1)) if found else float("nan")


def _run(base: Path, *extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "flowyard", "test", str(base), *extra],
        capture_output=True,
        text=True,
        env=env,
    )
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plain: list[float] = []
    covered: list[float] = []
    inner: dict[str, list[float]] = {"plain": [], "coverage": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "survey.json").write_text(json.dumps(flow()))
        for n in range(args.files):
            (base / f"survey_{n:03d}.test.json").write_text(json.dumps(test_file(n)))
        for _ in range(args.rounds):  # alternate: the machine's load hits both alike
            for name, times, extra in (
                ("plain", plain, ()),
                ("coverage", covered, ("--coverage",)),
            ):
                seconds, result = _run(base, *extra)
                if result.returncode != 0:
                    print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
                    sys.exit(1)
                times.append(seconds)
                inner[name].append(_inner(result.stdout))
    summary = next(
        line for line in result.stdout.splitlines() if "passed" in line and "failed" in line
    )
    base_s, cov_s = statistics.median(plain), statistics.median(covered)
    ratio = cov_s / base_s
    print(f"flowyard test: {args.files} files of a 20-widget flow ({summary})")
    print(f"  plain      median {base_s:.2f}s  {'PASS' if base_s < 5 else 'FAIL'} (< 5 s)")
    print(f"  --coverage median {cov_s:.2f}s  ratio {ratio:.2f}  "
          f"{'PASS' if ratio <= 1.20 else 'FAIL'} (<= 1.20)")  # fmt: skip
    tests_plain = statistics.median(inner["plain"])
    tests_cov = statistics.median(inner["coverage"])
    alone = tests_cov / tests_plain
    print(f"  the tests alone (start-up aside): {tests_plain:.3f}s plain, "
          f"{tests_cov:.3f}s recording coverage, ratio {alone:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
