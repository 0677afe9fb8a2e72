"""The web console at ``/console``: pages, static assets and a small JSON API.

Mounted by ``flowyard.api.app`` with ``*console.routes``; it calls the service layer
in-process, so ``flowyard serve`` serves it with no build step or other process.
"""

from __future__ import annotations

from starlette.routing import Route

from flowyard.console import (
    api_alerts,
    api_flows,
    api_runs,
    assets,
    events_page,
    outbox_pages,
    pages,
    simulator,
    simulator_call,
)

routes = [
    Route("/console", pages.root, methods=["GET"]),
    Route("/console/", pages.flows_page, methods=["GET"]),
    Route("/console/login", pages.login, methods=["GET", "POST"]),
    Route("/console/logout", pages.logout, methods=["POST"]),
    Route("/console/static/{path:path}", assets.static, methods=["GET", "HEAD"]),
    Route("/console/flows/{sid}", pages.flow_page, methods=["GET"]),
    Route("/console/flows/{sid}/{view:str}", pages.flow_page, methods=["GET"]),
    Route("/console/flows/{sid}/executions/{execution}", pages.flow_page, methods=["GET"]),
    *api_flows.routes,
    *api_runs.routes,
    *api_alerts.routes,
    *events_page.routes,
    *outbox_pages.routes,
    *simulator.routes,
    *simulator_call.routes,
]

__all__ = ["routes"]
