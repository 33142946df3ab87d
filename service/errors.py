"""Errors as HMPPS services answer them:
{status, errorCode, userMessage, developerMessage, moreInfo}."""

from __future__ import annotations

from typing import Any

MORE_INFO = "see docs/service.md, section Errors"

# Every error code the service itself produces (the engine's own codes pass through for facts
# and evaluation errors). Documented in docs/service.md.
CODES = {
    "E-HTTP-UNAUTHENTICATED": "no bearer token, or one that is expired, malformed or not ours",
    "E-HTTP-FORBIDDEN": "the token's roles do not allow this request or audience",
    "E-HTTP-NOT-FOUND": "no such pack, decision or path",
    "E-HTTP-BAD-REQUEST": "the request body or parameters are not what the endpoint takes",
    "E-HTTP-TOO-LARGE": "the request body or one batch line is over the size limit",
    "E-HTTP-METHOD": "the path does not take this HTTP method",
    "E-HTTP-INPUT-MISMATCH": "facts given to a replay do not hash to the logged input",
    "E-HTTP-PACK-GONE": "the pack version a logged decision used can no longer be loaded",
    "E-HTTP-RELOAD-FAILED": "the packs on disk have errors; the loaded packs keep serving",
    "E-HTTP-INTERNAL": "an unexpected server error (logged on the server)",
    "E-HTTP-UNAVAILABLE": "the service is not ready (packs or decision log unavailable)",
}


class ApiError(Exception):
    """An error answered to the caller with a status and a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        user_message: str,
        developer_message: str | None = None,
        details: Any = None,
    ):
        super().__init__(user_message)
        self.status = status
        self.code = code
        self.user_message = user_message
        self.developer_message = developer_message or user_message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The error as JSON-ready data."""
        return error_body(
            self.status, self.code, self.user_message, self.developer_message, self.details
        )


def error_body(
    status: int,
    code: str,
    user_message: str,
    developer_message: str | None = None,
    details: Any = None,
) -> dict[str, Any]:
    """The HMPPS error shape; `problems` carries the engine's positioned problems when there are."""
    body: dict[str, Any] = {
        "status": status,
        "errorCode": code,
        "userMessage": user_message,
        "developerMessage": developer_message or user_message,
        "moreInfo": MORE_INFO,
    }
    if details is not None:
        body["problems"] = details
    return body


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "errorCode", "userMessage", "developerMessage", "moreInfo"],
    "properties": {
        "status": {"type": "integer"},
        "errorCode": {"type": "string"},
        "userMessage": {"type": "string"},
        "developerMessage": {"type": "string"},
        "moreInfo": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object"}},
    },
}
