"""Domain errors carry a stable machine-readable code.

The API layer turns them into GraphQL errors with ``extensions.code`` (or
HTTP 4xx on REST) and never masks them; anything else is unexpected and is
masked in production.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class of every expected, user-facing failure."""

    code = "BAD_REQUEST"
    http_status = 400

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def as_extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extensions}


class BadInput(DomainError):
    code = "BAD_USER_INPUT"
    http_status = 400


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(DomainError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(DomainError):
    code = "CONFLICT"
    http_status = 409


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class ConfigError(Exception):
    """A setting is missing or invalid; start-up stops with this one line."""
