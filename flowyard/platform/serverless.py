"""Function URLs from Twilio's Serverless API: ``https://{environment.domain_name}{path}``.

The path is the Function Version in the environment's current build (the deployed one);
a Function never built into the environment falls back to its newest version. Answers are
cached for the process: a deployment that moves a path needs a restart (rare; paths are
chosen by the developer and stable).
"""

from __future__ import annotations

from typing import Any

import anyio
from twilio.base.exceptions import TwilioRestException


class Serverless:
    """Resolves and caches Function URLs through the official client's ``serverless`` domain."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._cache: dict[tuple[str, str, str], str] = {}
        self.lookups = 0  # how many times the API was asked (tests check the cache)

    async def url(self, service_sid: str, environment_sid: str, function_sid: str) -> str:
        key = (service_sid, environment_sid, function_sid)
        if key not in self._cache:
            self.lookups += 1
            try:
                url = await anyio.to_thread.run_sync(lambda: self._resolve(*key))
            except TwilioRestException as exc:
                raise LookupError(f"Serverless API: {exc.msg}") from exc
            except Exception as exc:  # network trouble: the widget fails, nothing cached
                raise LookupError(f"Serverless API unreachable: {exc}") from exc
            self._cache[key] = url
        return self._cache[key]

    def _resolve(self, service_sid: str, environment_sid: str, function_sid: str) -> str:
        service = self._client.serverless.v1.services(service_sid)
        environment = service.environments(environment_sid).fetch()
        path = None
        if environment.build_sid:
            build = service.builds(environment.build_sid).fetch()
            for version in build.function_versions or []:
                if isinstance(version, dict) and version.get("function_sid") == function_sid:
                    path = version.get("path")
                    break
        if path is None:
            versions = service.functions(function_sid).function_versions.list(limit=1)
            if not versions:
                raise LookupError(f"Function {function_sid} has no deployed version")
            path = versions[0].path
        return f"https://{environment.domain_name}{path}"
