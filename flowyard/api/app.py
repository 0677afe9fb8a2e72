"""The ASGI application: routes, error handling, body limit, shared state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowyard import console, heap, logs
from flowyard.api import (
    alerts,
    calls,
    conversations,
    events,
    executions,
    flows_v1,
    flows_v2,
    health,
    messages,
    schemas,
    subscriptions,
    webhook,
)
from flowyard.api.access_log import AccessLog
from flowyard.api.checks import PathGuard
from flowyard.api.limits import BodyLimit
from flowyard.api.responses import JSON
from flowyard.api.throttle import AuthThrottle
from flowyard.api.timing import Timings
from flowyard.config import Settings
from flowyard.console.headers import ConsoleHeaders
from flowyard.errors import TwilioError, method_not_allowed, not_found, server_error
from flowyard.platform.adapters import build_platform
from flowyard.platform.outbound import OutboundPolicy, policy_client
from flowyard.platform.sink_http import SinkClient
from flowyard.service import metrics
from flowyard.service.accounts import CredentialCache
from flowyard.service.event_delivery import Delivery
from flowyard.service.retention import run_retention
from flowyard.service.runtime import Runtime
from flowyard.store import create_db_engine
from flowyard.store.checkpoint import Checkpointer

log = logging.getLogger("flowyard")


def _twilio_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwilioError)
    headers = dict(exc.headers or {})
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Flowyard"'
    return JSON(exc.body(), exc.status, headers=headers)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = _twilio_error(request, method_not_allowed())
        if exc.headers and "Allow" in exc.headers:  # RFC 9110: say which methods would do
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    if exc.status_code == 404:
        path = request.url.path
        for prefix in ("/v1", "/v2"):
            path = path.removeprefix(prefix)
        return _twilio_error(request, not_found(path))
    return _twilio_error(request, TwilioError(exc.status_code, exc.status_code, exc.detail))


class _Unexpected:
    """Answer 20500 to an unhandled error, logged with its traceback; the client gets no
    internals. Starlette's own handler re-raises after answering, and uvicorn then closes
    the connection under the client's next request: this one keeps it open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
            if started:  # half a response cannot be mended: uvicorn closes the connection
                raise
            await JSON(server_error().body(), 500)(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    """Build the application on an existing (migrated) database."""
    db = create_db_engine(settings.database_url, background_checkpoint=True)
    # Built before serving so a malformed FLOWYARD_HTTP_DENY/ALLOW stops the start.
    policy = OutboundPolicy.from_settings(settings.http_deny, settings.http_allow)
    metrics.enable(settings.metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with policy_client(policy) as http:
            runtime = Runtime(db, settings, build_platform(settings), http)
            app.state.runtime = runtime
            sweeper = asyncio.create_task(runtime.run_sweeper(settings.timer_interval))
            app.state.sweeper = sweeper  # /readyz checks it runs
            background = [sweeper]
            # Event Streams: the outbox's events go to their sinks from every process.
            sinks = SinkClient(policy)
            delivery = Delivery(
                db, sinks, settings, runtime.owner, runtime.group, runtime.subscribers
            )
            background.append(asyncio.create_task(delivery.run(settings.timer_interval)))
            if settings.retention_days > 0:
                retain = run_retention(db, settings.retention_days)
                background.append(asyncio.create_task(retain))
            checkpointer = Checkpointer(db) if Checkpointer.applies(db) else None
            if checkpointer is not None:
                checkpointer.start()
            heap.settle()  # after everything long-lived of the process exists
            try:
                yield
            finally:
                # uvicorn stopped taking requests: finish (or hand back) the sprints in flight.
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await runtime.shutdown()
                if checkpointer is not None:
                    checkpointer.stop()
                app.state.health.reads.close()
                metrics.process_exiting()
                db.dispose()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            *health.routes(settings.metrics),
            *flows_v2.routes,
            *flows_v1.routes,
            *executions.routes,
            *webhook.routes,
            *messages.routes,
            *conversations.routes,
            *calls.routes,
            *alerts.routes,
            *events.routes,
            *subscriptions.routes,
            *schemas.routes,
            *console.routes,
        ],
        exception_handlers={
            TwilioError: _twilio_error,
            HTTPException: _http_error,
        },
    )
    app.state.settings = settings
    app.state.db = db
    app.state.health = health.Health(db, settings.timer_interval)
    app.state.credentials = CredentialCache(db)
    app.state.throttle = AuthThrottle(
        settings.auth_failures_per_address, settings.auth_failures_per_sid
    )
    # Outermost last: an unexpected error is answered even from the body limit's draining.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(ConsoleHeaders)
    app.add_middleware(PathGuard)
    app.add_middleware(_Unexpected)
    # Outermost: a request's whole time and its 500s, whatever answered it. One wrapper does
    # both the access line and the timing (a layer costs ~2% of a fetch).
    if settings.access_log or settings.metrics:
        timings = Timings() if settings.metrics else None
        app.add_middleware(AccessLog, timings=timings, lines=settings.access_log)
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and worker processes: settings from the environment."""
    settings = Settings.from_env()
    logs.configure_unless_done(settings.log_level, settings.log_format)
    return create_app(settings)
