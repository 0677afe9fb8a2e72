"""Reading what the client sent: form bodies, query strings and the base URL it used."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import unquote

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
    return Params(parse_qs(text))


def query(request: Request) -> Params:
    raw = request.scope.get("query_string", b"").decode()
    # What request.url.query would hold, without parsing the whole URL; URL parsing drops
    # tabs and newlines and cuts at "#", so such rare strings still go through it.
    if "#" in raw or "\t" in raw or "\r" in raw or "\n" in raw:
        raw = request.url.query
    return Params(parse_qs(raw))


def parse_qs(text: str) -> dict[str, list[str]]:
    """``urllib.parse.parse_qs(text, keep_blank_values=True)``, with a faster unquote; a NUL
    in a name or a value is refused (20001)."""
    values: dict[str, list[str]] = {}
    for field in text.split("&") if text else ():
        if not field:
            continue
        name, _, value = field.partition("=")
        name = _unquote(name.replace("+", " "))
        value = _unquote(value.replace("+", " "))
        if name in values:
            values[name].append(value)
        else:
            values[name] = [value]
    if "\x00" in text or "%00" in text:  # PostgreSQL refuses NUL: name the field that holds it
        for name, items in values.items():
            if "\x00" in name or any("\x00" in item for item in items):
                raise invalid_parameter(name.replace("\x00", ""), "must not contain NUL characters")
    return values


def _unquote(text: str) -> str:
    """``urllib.parse.unquote``: a form's 8 KB definition has thousands of escapes, which
    urllib decodes one by one in Python (most of the CPU of a create)."""
    if "%" not in text:
        return text
    if text.isascii() and "\\" not in text:
        # Rewritten as \xXX escapes, the codec swaps each for U+00XX, which latin-1 turns
        # back into the byte XX: all in C. A malformed escape fails and takes urllib's way.
        try:
            escaped = text.replace("%", "\\x").encode("ascii").decode("unicode_escape")
        except UnicodeDecodeError:
            pass
        else:
            return escaped.encode("latin-1").decode("utf-8", "replace")
    return unquote(text)


def base_url(request: Request) -> str:
    """Absolute URLs are built on FLOWYARD_PUBLIC_URL, else on the host the client used."""
    public = request.app.state.settings.public_url
    if public:
        return public.rstrip("/")
    host = request.headers.get("host")
    if not host:  # HTTP/1.0 without Host: only the parsed URL knows the address
        return f"{request.url.scheme}://{request.url.hostname}:{request.url.port}"
    # Not request.url: parsing the whole URL to read its scheme cost as much as the query.
    return f"{request.scope.get('scheme', 'http')}://{host}"


def date_param(params: Params, name: str) -> datetime | None:
    """A naive UTC datetime from an ISO 8601 date or date-time parameter (400 if malformed)."""
    raw = params.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time())
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise invalid_parameter(name, "must be an ISO 8601 date or date-time") from None
    return parsed
