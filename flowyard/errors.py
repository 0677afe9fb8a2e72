"""Errors in Twilio's legacy body: ``{code, message, more_info, status[, details]}``.

Never ``type``/``title`` keys: twilio-python would then raise TwilioServiceException.
"""

from __future__ import annotations

from typing import Any


class TwilioError(Exception):
    """An error answered to the client in Twilio's shape."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found(path: str) -> TwilioError:
    """20404, quoting the path without the version prefix as Twilio does."""
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def missing_parameter(name: str) -> TwilioError:
    return TwilioError(400, 20001, f"Missing required parameter {name} in the post body")


def invalid_parameter(name: str, why: str) -> TwilioError:
    return TwilioError(400, 20001, f"Invalid parameter {name}: {why}")


def unauthenticated() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate")


def too_many_requests(retry_after: int) -> TwilioError:
    return TwilioError(
        429,
        20429,
        "Too many failed authentication attempts; retry later",
        headers={"Retry-After": str(retry_after)},
    )


def method_not_allowed() -> TwilioError:
    return TwilioError(405, 20004, "Method not allowed")


def too_large(limit: int) -> TwilioError:
    return TwilioError(413, 20413, f"Request body larger than {limit} bytes")


def server_error() -> TwilioError:
    return TwilioError(500, 20500, "Internal Server Error")
