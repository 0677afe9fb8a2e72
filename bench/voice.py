"""Voice webhook benchmark: round trips per second for a 5-prompt IVR call, and the p99 TwiML
latency at half that load.

A fresh ``python -m flowyard serve`` (one worker, SQLite in a temp dir) answers calls played
by ``flowyard.testing.voice.AsyncVoiceClient`` over 127.0.0.1: each call is the incoming
webhook, five gathers answered with a digit, a goodbye and the final status callback (8 signed
webhook round trips). Loops are bounded by call counts and durations.

    python bench/voice.py [--calls N] [--concurrency N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: python bench/voice.py

from flowyard.testing.voice import AsyncVoiceClient  # noqa: E402

PROMPTS = 5
TARGET_P99_MS = 50.0


def ivr_definition() -> dict[str, Any]:
    """Five prompts, each a gather whose keypress leads to the next, then a goodbye."""

    def state(name: str, kind: str, transitions: list[dict], **props: Any) -> dict:
        return {
            "name": name,
            "type": kind,
            "transitions": transitions,
            "properties": {"offset": {"x": 0, "y": 0}, **props},
        }

    names = [f"prompt_{i}" for i in range(1, PROMPTS + 1)]
    states = [
        state("Trigger", "trigger", [{"event": "incomingCall", "next": names[0]}]),
        *[
            state(
                name,
                "gather-input-on-call",
                [
                    {"event": "keypress", "next": names[i + 1] if i + 1 < PROMPTS else "bye"},
                    {"event": "timeout"},
                ],
                say=f"Question {i + 1} for {{{{trigger.call.From}}}}: press a key",
                voice="Polly.Joanna",
                timeout=5,
                number_of_digits=1,
            )
            for i, name in enumerate(names)
        ],
        state(
            "bye",
            "say-play",
            [{"event": "audioComplete"}],
            say="You pressed {{widgets.prompt_5.Digits}}. Goodbye.",
        ),
    ]
    return {
        "description": "bench IVR",
        "initial_state": "Trigger",
        "states": states,
        "flags": {"allow_concurrent_calls": True},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def flowyard(tmp: Path, account: str, token: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "FLOWYARD_ACCOUNT_SID": account, "FLOWYARD_AUTH_TOKEN": token}
    command = [
        sys.executable,
        "-m",
        "flowyard",
        "serve",
        "--port",
        str(port),
        "--database-url",
        f"sqlite:///{tmp / 'voice.db'}",
    ]
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(base + "/v2/Flows", timeout=1)
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("flowyard did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def one_call(client: AsyncVoiceClient, flow_sid: str, timings: list[float]) -> None:
    caller = "+1555" + str(uuid.uuid4().int)[:7]
    call = await client.call(
        flow_sid, caller, "+15559990000", answers=["1"] * PROMPTS, timings=timings
    )
    if len(call.heard) != PROMPTS + 1:
        raise RuntimeError(f"unexpected call: {call.heard}")


async def max_load(
    client: AsyncVoiceClient, flow_sid: str, calls: int, concurrency: int
) -> tuple[float, list[float]]:
    """Closed loop: ``concurrency`` callers until ``calls`` calls are done."""
    timings: list[float] = []
    queue = iter(range(calls))

    async def caller() -> None:
        for _ in queue:
            await one_call(client, flow_sid, timings)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return len(timings) / (time.perf_counter() - started), timings


async def paced_load(
    client: AsyncVoiceClient, flow_sid: str, rate: float, seconds: float
) -> tuple[float, list[float]]:
    """Open loop: new calls at a fixed pace so round trips arrive at ``rate`` per second."""
    per_call = PROMPTS + 3  # incoming, five answers, goodbye redirect, status callback
    interval = per_call / rate
    timings: list[float] = []
    tasks: list[asyncio.Task] = []
    started = time.perf_counter()
    deadline = started + seconds
    next_start = started
    while next_start < deadline:
        await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
        tasks.append(asyncio.create_task(one_call(client, flow_sid, timings)))
        next_start += interval
    await asyncio.gather(*tasks)
    return len(timings) / (time.perf_counter() - started), timings


async def run(options: argparse.Namespace) -> None:
    account, token = "AC" + uuid.uuid4().hex, uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as tmp, flowyard(Path(tmp), account, token) as base:
        created = httpx.post(
            f"{base}/v2/Flows",
            auth=(account, token),
            data={
                "FriendlyName": "bench",
                "Status": "published",
                "Definition": orjson.dumps(ivr_definition()).decode(),
            },
        )
        created.raise_for_status()
        flow_sid = created.json()["sid"]
        client = AsyncVoiceClient(base, account, token)
        try:
            await max_load(client, flow_sid, 10, 2)  # warm-up
            rate, timings = await max_load(client, flow_sid, options.calls, options.concurrency)
            print(
                f"max load: {rate:,.0f} webhook round trips/s "
                f"({options.calls} calls x {PROMPTS + 3}, {options.concurrency} callers), "
                f"p50 {percentile(timings, 50) * 1000:.1f} ms, "
                f"p99 {percentile(timings, 99) * 1000:.1f} ms"
            )
            half, timings = await paced_load(client, flow_sid, rate / 2, options.seconds)
            p99 = percentile(timings, 99) * 1000
            verdict = "OK" if p99 < TARGET_P99_MS else "ABOVE TARGET"
            print(
                f"half load: {half:,.0f} round trips/s for {options.seconds:.0f} s, "
                f"p50 {percentile(timings, 50) * 1000:.1f} ms, p99 {p99:.1f} ms "
                f"(target < {TARGET_P99_MS:.0f} ms: {verdict})"
            )
        finally:
            await client.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls at max load")
    parser.add_argument("--concurrency", type=int, default=16, help="callers at max load")
    parser.add_argument("--seconds", type=float, default=10.0, help="half-load duration")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
