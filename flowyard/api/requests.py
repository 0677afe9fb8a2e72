"""Reading what the client sent: form bodies, query strings and the base URL it used."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

from starlette.requests import Request

from flowyard.errors import invalid_parameter, missing_parameter


class Params:
    """Form or query parameters; names repeat for lists (``TestUsers=a&TestUsers=b``)."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name)
        return values[-1] if values else default

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise missing_parameter(name)
        return value

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def items(self) -> list[tuple[str, str]]:
        return [(k, v) for k, values in self._values.items() for v in values]

    def last_values(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self._values.items() if v}


async def form(request: Request) -> Params:
    """The url-encoded body. Other content types are refused rather than guessed at."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if body and "json" in ctype:
        raise invalid_parameter("Content-Type", "expected application/x-www-form-urlencoded")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_parameter("body", "not UTF-8") from exc
    return Params(parse_qs(text, keep_blank_values=True))


def query(request: Request) -> Params:
    return Params(parse_qs(request.url.query, keep_blank_values=True))


def base_url(request: Request) -> str:
    """Absolute URLs are built on FLOWYARD_PUBLIC_URL, else on the host the client used."""
    public = request.app.state.settings.public_url
    if public:
        return public.rstrip("/")
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"
