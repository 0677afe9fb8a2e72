"""Answers for HTTP Request and Run Function widgets, per widget name and per call index.

Modelled on AWS Step Functions' mock configuration: each widget gets a list of responses,
the n-th call gets the n-th one and the last one repeats. A widget with no mock fails with a
clear error, unless the run allows the network, in which case the request really goes out.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx

from flowyard.engine import CallResult, ServiceCall
from flowyard.engine.testing import function_url, unknown_function

T = TypeVar("T")


@dataclass(frozen=True)
class Response:
    """A mocked HTTP answer; a body that is not a string is sent as JSON."""

    status: int = 200
    body: Any = ""
    content_type: str | None = None

    def result(self) -> CallResult:
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        content_type = self.content_type or (
            "text/plain" if isinstance(self.body, str) else "application/json"
        )
        return CallResult(
            ok=True,
            data={
                "status_code": self.status,
                "content_type": content_type,
                "body": text,
                "headers": {},
            },
        )


@dataclass(frozen=True)
class NetworkError:
    """A mocked transport failure (connection refused, time-out...)."""

    message: str = "connection refused"

    def result(self) -> CallResult:
        return CallResult(ok=False, error=self.message)


Answer = Response | NetworkError


def answer_from_json(raw: Any) -> Answer:
    """``{"status", "body", "content_type"}`` or ``{"error": "..."}`` as an ``Answer``."""
    if isinstance(raw, Response | NetworkError):
        return raw
    if not isinstance(raw, dict):
        raise ValueError(f"a mock response must be an object, not {raw!r}")
    unknown = set(raw) - {"status", "body", "content_type", "error"}
    if unknown:
        raise ValueError(f"unknown mock response keys: {', '.join(sorted(unknown))}")
    if "error" in raw:
        return NetworkError(str(raw["error"]))
    return Response(int(raw.get("status", 200)), raw.get("body", ""), raw.get("content_type"))


@dataclass
class Mocks:
    """Responses per widget name; ``allow_network`` lets unmocked widgets call out for real."""

    responses: dict[str, list[Answer]] = field(default_factory=dict)
    allow_network: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    unmocked: list[str] = field(default_factory=list)
    # Every answer given, in order: ``flowyard chat --record`` turns real ones into mocks.
    log: list[tuple[str, CallResult]] = field(default_factory=list)
    # Run Function widgets given by SIDs: function_sid (or widget name) -> URL or answers.
    functions: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(
        cls,
        raw: dict[str, Any] | None,
        allow_network: bool = False,
        functions: dict[str, Any] | None = None,
    ) -> Mocks:
        mocks = cls(allow_network=allow_network, functions=dict(functions or {}))
        for widget, answers in (raw or {}).items():
            listed = answers if isinstance(answers, list) else [answers]
            mocks.add(widget, *(answer_from_json(a) for a in listed))
        return mocks

    def add(self, widget: str, *answers: Answer | dict[str, Any]) -> Mocks:
        """Mock ``widget``: call n gets ``answers[n]``, later calls get the last one."""
        self.responses[widget] = [answer_from_json(a) for a in answers]
        return self

    def __call__(self, call: ServiceCall) -> CallResult:
        result = self._answer(call)
        self.log.append((call.widget, result))
        return result

    def _answer(self, call: ServiceCall) -> CallResult:
        index = self.counts.get(call.widget, 0)
        self.counts[call.widget] = index + 1
        answers = self.responses.get(call.widget)
        if answers:
            return answers[min(index, len(answers) - 1)].result()
        if call.kind == "function" and not call.request.get("url"):
            target = function_url(self.functions, call)
            if target is None:
                self.unmocked.append(call.widget)
                return CallResult(ok=False, error=unknown_function(call))
            if not isinstance(target, str):  # a mock given under the Function's SID
                listed = target if isinstance(target, list) else [target]
                mocked = [answer_from_json(a) for a in listed]
                return mocked[min(index, len(mocked) - 1)].result()
            call = replace(call, request={**call.request, "url": target})
        if self.allow_network:
            return _real(call)
        self.unmocked.append(call.widget)
        return CallResult(
            ok=False,
            error=f"{call.widget}: no mock for this {call.kind} call (network not allowed)",
        )


def as_mock(result: CallResult) -> dict[str, Any]:
    """A mock response (file format) that answers like ``result`` did."""
    if not result.ok or result.data is None:
        return {"error": result.error or "request failed"}
    data = result.data
    body: Any = data.get("body") or ""
    content_type = str(data.get("content_type") or "")
    if "json" in content_type:
        with contextlib.suppress(ValueError):
            body = json.loads(body)
    mock: dict[str, Any] = {"status": int(data.get("status_code") or 0), "body": body}
    if content_type and content_type not in ("application/json", "text/plain"):
        mock["content_type"] = content_type
    return mock


def _real(call: ServiceCall) -> CallResult:
    """Send the request for real, the way the server does."""
    from flowyard.platform.http import HttpRequest, perform

    request = call.request
    form = request.get("form")

    async def go() -> Any:
        async with httpx.AsyncClient() as client:
            return await perform(
                client,
                HttpRequest(
                    method=request.get("method", "POST"),
                    url=request["url"],
                    query=[tuple(pair) for pair in request.get("query") or []],
                    form=[tuple(pair) for pair in form] if form is not None else None,
                    content=request.get("content"),
                    content_type=request.get("content_type"),
                    timeout=float(request.get("timeout", 10)),
                    max_bytes=int(request.get("max_bytes", 64 * 1024)),
                ),
            )

    outcome = run_sync(go)
    return CallResult(ok=outcome.ok, data=outcome.data, error=outcome.error)


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` to completion from synchronous code.

    Where an event loop already runs in this thread (Jupyter, pytest-asyncio, Playwright's sync
    API), ``asyncio.run`` refuses, so the coroutine runs on a loop of its own in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()
