"""REST-only failures and their JSON rendering (same shape as GraphQL errors)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lifeos_gql.api.middleware import error_response
from lifeos_gql.core.errors import DomainError


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class MethodNotAllowed(DomainError):
    code = "METHOD_NOT_ALLOWED"
    http_status = 405


class RouteNotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404


def json_error(request: Request, error: DomainError) -> Response:
    """``{"errors": [{"message", "extensions": {"code", ...}}]}`` with the error's status."""
    response = error_response(
        error, request_id=request.scope.get("state", {}).get("request_id", "-")
    )
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.extensions.get("allowed", []))
    return response
