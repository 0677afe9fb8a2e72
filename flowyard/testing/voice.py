"""Play Twilio's part in a call: post the flow webhook (signed), read the TwiML, follow its
redirects and actions, answer gathers, and report what the caller heard.

``VoiceClient`` talks to a server URL; ``AsyncVoiceClient`` to a URL or, with ``app=``, to an
in-process ASGI app. Both drive the same ``Caller``, which turns each TwiML answer into the
next request Twilio would make::

    client = VoiceClient(base_url, account_sid, auth_token)
    call = client.call(flow_sid, "+15550001111", "+15559990000", answers=["1", Speech("yes")])
    call.heard  # ["Welcome", "Press 1 ...", ...]
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from twilio.request_validator import RequestValidator

from flowyard.testing.caller import (
    HANGUP,
    MAX_REQUESTS,
    SILENCE,
    Call,
    Caller,
    Exchange,
    Outcomes,
    Speech,
    call_params,
)

# How long a test waits for an execution to place the call it is told to answer.
PLACED_WITHIN = 10.0

# Re-exported: tests and the console import them from here.
__all__ = [
    "HANGUP",
    "MAX_REQUESTS",
    "SILENCE",
    "AsyncVoiceClient",
    "Call",
    "Caller",
    "Exchange",
    "Outcomes",
    "Speech",
    "VoiceClient",
    "call_params",
]
_EXECUTION = re.compile(r"executionSid=(FN[0-9a-fA-F]{32})")


class _Base:
    def __init__(
        self, base_url: str, account_sid: str, auth_token: str, *, signed_base: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        # The public base Flowyard signs URLs for (FLOWYARD_PUBLIC_URL), when it differs.
        self.signed_base = (signed_base or self.base_url).rstrip("/")
        self.validator = RequestValidator(auth_token)

    def webhook(self, flow_sid: str) -> str:
        return f"{self.signed_base}/v1/Accounts/{self.account_sid}/Flows/{flow_sid}"

    def _prepare(self, url: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Where to send a request Twilio would send to ``url``, and its signature header."""
        public = url if url.startswith("http") else self.signed_base + url
        signature = self.validator.compute_signature(public, params)
        target = public
        if public.startswith(self.signed_base):
            target = self.base_url + public[len(self.signed_base) :]
        return target, {"X-Twilio-Signature": signature}

    def _start(
        self,
        flow_sid: str,
        from_: str,
        to: str,
        answers: list[Any] | None,
        outcomes: Outcomes | None,
        extra: dict[str, str] | None,
        call_sid: str | None = None,
        direction: str = "inbound",
        url: str | None = None,
        make: Callable[..., Caller] = Caller,
    ) -> tuple[Caller, str, dict[str, str]]:
        call_sid = call_sid or "CA" + uuid.uuid4().hex
        base = call_params(self.account_sid, call_sid, from_, to, direction, extra)
        caller = make(Call(call_sid), base, answers or [], outcomes or Outcomes())
        first = url or self.webhook(flow_sid)
        status = "ringing" if direction == "inbound" else "in-progress"
        return caller, first, {**caller.params(), "CallStatus": status}

    def _answering(
        self,
        placed: dict[str, Any],
        answered_by: str,
        answers: list[Any] | None,
        outcomes: Outcomes | None,
        extra: dict[str, str] | None,
    ) -> tuple[Caller, str, dict[str, str]]:
        extra = {"AnsweredBy": answered_by, "MachineDetectionDuration": "3952", **(extra or {})}
        caller, url, params = self._start(
            "",
            placed["from"],
            placed["to"],
            answers,
            outcomes,
            extra,
            call_sid=placed["sid"],
            direction="outbound-api",
            url=placed["url"],
        )
        self._note(caller, url)
        return caller, url, params

    def _unanswered(self, placed: dict[str, Any], status: str) -> dict[str, str]:
        return call_params(
            self.account_sid,
            placed["sid"],
            placed["from"],
            placed["to"],
            "outbound-api",
            {"CallStatus": status},
        )

    def _calls_request(self, to: str | None) -> dict[str, Any]:
        return {
            "url": f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Calls.json",
            "params": {"To": to} if to else {},
            "auth": (self.account_sid, self.auth_token),
        }

    @staticmethod
    def _newest(response: httpx.Response) -> dict[str, Any] | None:
        response.raise_for_status()
        calls = [c for c in response.json()["calls"] if c["direction"] == "outbound-api"]
        return calls[0] if calls else None

    @staticmethod
    def _note(caller: Caller, url: str) -> None:
        sid = dict(parse_qsl(urlsplit(url).query)).get("executionSid")
        if sid:
            caller.call.execution_sid = sid

    @staticmethod
    def _learn(caller: Caller, twiml: str) -> None:
        # Flowyard's actions carry the execution SID, even when the call goes elsewhere first.
        found = _EXECUTION.search(twiml)
        if found and caller.call.execution_sid is None:
            caller.call.execution_sid = found.group(1)

    @staticmethod
    def _held(caller: Caller, final_url: str | None) -> bool:
        call = caller.call
        call._caller, call._final_url = caller, final_url
        call.held = caller.hold is not None
        return call.held

    def _call_request(self, call: Call) -> dict[str, Any]:
        path = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.call_sid}.json"
        return {"url": self.base_url + path, "auth": (self.account_sid, self.auth_token)}

    @staticmethod
    def _moved(call: Call, response: httpx.Response, answers: list[Any] | None) -> Any:
        response.raise_for_status()
        url = response.json().get("url")
        caller = call._caller
        if not url or caller is None:
            raise ValueError("the call has no URL to fetch")
        caller.answers.extend(answers or [])
        caller.hold, call.held, call.ended = None, False, False
        return caller, url, caller.params()

    @staticmethod
    def _unhold(call: Call, answers: list[Any] | None) -> tuple[Caller, tuple[str, dict[str, str]]]:
        caller = call._caller
        if not call.held or caller is None or caller.hold is None:
            raise ValueError("the call is not on hold")
        caller.answers.extend(answers or [])
        hold, caller.hold, call.held = caller.hold, None, False
        return caller, hold

    @staticmethod
    def _final(caller: Caller, status: str) -> dict[str, str]:
        return {**caller.base, "CallStatus": status, "CallDuration": "30"}


class VoiceClient(_Base):
    """Drives calls against a running server (blocking, ``httpx.Client``)."""

    def __init__(self, base_url: str, account_sid: str, auth_token: str, **kwargs: Any) -> None:
        super().__init__(base_url, account_sid, auth_token, **kwargs)
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.http.close()

    def post(self, url: str, params: dict[str, str]) -> httpx.Response:
        target, headers = self._prepare(url, params)
        return self.http.post(target, data=params, headers=headers)

    def call(
        self,
        flow_sid: str,
        from_: str,
        to: str,
        *,
        answers: list[Any] | None = None,
        outcomes: Outcomes | None = None,
        extra: dict[str, str] | None = None,
        hang_up: bool = True,
        caller: Callable[..., Caller] = Caller,
    ) -> Call:
        """An inbound call to ``to`` from ``from_``; ``hang_up`` posts the final status
        callback (``CallStatus=completed``) when the TwiML runs out. ``caller`` makes the
        ``Caller`` (``flowyard inbound call`` asks the user at each gather)."""
        started, url, params = self._start(
            flow_sid, from_, to, answers, outcomes, extra, make=caller
        )
        return self._drive(started, url, params, flow_sid if hang_up else None)

    def answer(
        self,
        *,
        to: str | None = None,
        answered_by: str = "human",
        answers: list[Any] | None = None,
        outcomes: Outcomes | None = None,
        extra: dict[str, str] | None = None,
    ) -> Call:
        """Answer the newest simulated outbound call (local platform) and follow it."""
        placed = self.placed_call(to)
        caller, url, params = self._answering(placed, answered_by, answers, outcomes, extra)
        return self._drive(caller, url, params, None, status_url=url)

    def fail(self, status: str = "busy", *, to: str | None = None) -> httpx.Response:
        """The newest simulated outbound call ends unanswered (busy, no-answer, failed)."""
        placed = self.placed_call(to)
        return self.post(placed["url"], self._unanswered(placed, status))

    def placed_call(self, to: str | None = None, timeout: float = PLACED_WITHIN) -> dict[str, Any]:
        """The newest outbound call in the Calls resource (``to`` filters), waiting up to
        ``timeout`` seconds for one: executions run after their create request answered."""
        deadline = time.monotonic() + timeout
        while (placed := self._newest(self.http.get(**self._calls_request(to)))) is None:
            if time.monotonic() > deadline:
                raise AssertionError("no outbound call was placed")
            time.sleep(0.02)
        return placed

    def _drive(
        self,
        caller: Caller,
        url: str,
        params: dict[str, str],
        flow_sid: str | None,
        status_url: str | None = None,
    ) -> Call:
        call = caller.call
        for _ in range(MAX_REQUESTS):
            response = self.post(url, params)
            call.exchanges.append(Exchange(url, params, response.status_code, response.text))
            if response.status_code != 200:
                break
            self._learn(caller, response.text)
            step = caller.next(url, response.text)
            if step is None:
                break
            url, params = step
            self._note(caller, url)
        final_url = status_url or (self.webhook(flow_sid) if flow_sid else None)
        if self._held(caller, final_url):
            return call
        call.ended = True
        if final_url:
            self.post(final_url, self._final(caller, "completed"))
        return call

    def resume(self, call: Call, answers: list[Any] | None = None) -> Call:
        """Go on with a call on hold (Twilio fetching the flow again); ``answers`` are added."""
        caller, (url, params) = self._unhold(call, answers)
        return self._drive(caller, url, params, None, status_url=call._final_url)

    def follow(self, call: Call, answers: list[Any] | None = None) -> Call:
        """Fetch the URL the Calls resource now gives the call, as Twilio does when a call is
        redirected (Flowyard pulls a call back when its execution moved on without it)."""
        response = self.http.get(**self._call_request(call))
        caller, url, params = self._moved(call, response, answers)
        return self._drive(caller, url, params, None, status_url=call._final_url)


class AsyncVoiceClient(_Base):
    """The same against a server URL or an in-process ASGI ``app`` (``httpx.ASGITransport``)."""

    def __init__(
        self, base_url: str, account_sid: str, auth_token: str, *, app: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(base_url, account_sid, auth_token, **kwargs)
        transport = httpx.ASGITransport(app=app) if app is not None else None
        self.http = httpx.AsyncClient(transport=transport, timeout=30)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def post(self, url: str, params: dict[str, str]) -> httpx.Response:
        target, headers = self._prepare(url, params)
        return await self.http.post(target, data=params, headers=headers)

    async def call(
        self,
        flow_sid: str,
        from_: str,
        to: str,
        *,
        answers: list[Any] | None = None,
        outcomes: Outcomes | None = None,
        extra: dict[str, str] | None = None,
        hang_up: bool = True,
        timings: list[float] | None = None,
    ) -> Call:
        """As ``VoiceClient.call``; ``timings`` collects each webhook round trip (seconds)."""
        caller, url, params = self._start(flow_sid, from_, to, answers, outcomes, extra)
        final = self.webhook(flow_sid) if hang_up else None
        return await self._drive(caller, url, params, final, timings)

    async def answer(
        self,
        *,
        to: str | None = None,
        answered_by: str = "human",
        answers: list[Any] | None = None,
        outcomes: Outcomes | None = None,
        extra: dict[str, str] | None = None,
    ) -> Call:
        """As ``VoiceClient.answer``."""
        placed = await self.placed_call(to)
        caller, url, params = self._answering(placed, answered_by, answers, outcomes, extra)
        return await self._drive(caller, url, params, url)

    async def fail(self, status: str = "busy", *, to: str | None = None) -> httpx.Response:
        """As ``VoiceClient.fail``."""
        placed = await self.placed_call(to)
        return await self.post(placed["url"], self._unanswered(placed, status))

    async def placed_call(
        self, to: str | None = None, timeout: float = PLACED_WITHIN
    ) -> dict[str, Any]:
        """As ``VoiceClient.placed_call``."""
        deadline = time.monotonic() + timeout
        while (placed := self._newest(await self.http.get(**self._calls_request(to)))) is None:
            if time.monotonic() > deadline:
                raise AssertionError("no outbound call was placed")
            await asyncio.sleep(0.02)
        return placed

    async def _drive(
        self,
        caller: Caller,
        url: str,
        params: dict[str, str],
        final_url: str | None,
        timings: list[float] | None = None,
    ) -> Call:
        call = caller.call
        for _ in range(MAX_REQUESTS):
            started = time.perf_counter()
            response = await self.post(url, params)
            if timings is not None:
                timings.append(time.perf_counter() - started)
            call.exchanges.append(Exchange(url, params, response.status_code, response.text))
            if response.status_code != 200:
                break
            self._learn(caller, response.text)
            step = caller.next(url, response.text)
            if step is None:
                break
            url, params = step
            self._note(caller, url)
        if self._held(caller, final_url):
            return call
        call.ended = True
        if final_url:
            await self.post(final_url, self._final(caller, "completed"))
        return call

    async def resume(self, call: Call, answers: list[Any] | None = None) -> Call:
        """As ``VoiceClient.resume``."""
        caller, (url, params) = self._unhold(call, answers)
        return await self._drive(caller, url, params, call._final_url)

    async def follow(self, call: Call, answers: list[Any] | None = None) -> Call:
        """As ``VoiceClient.follow``."""
        response = await self.http.get(**self._call_request(call))
        caller, url, params = self._moved(call, response, answers)
        return await self._drive(caller, url, params, call._final_url)
