"""Shape GraphQL errors: domain errors keep a code, the rest get masked.

Strawberry's ``MaskErrors`` replaces every message with one fixed string;
we also need ``extensions.code`` on domain errors and the request id on
masked ones (so a user's report can be matched with the server log), hence
this extension.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from lifeos_gql.core.errors import DomainError

log = logging.getLogger("lifeos_gql.errors")


class ErrorShaping(SchemaExtension):
    mask_unexpected = False

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._shape(error) for error in result.errors]

    def _shape(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            # Parse and validation errors (limits included).
            extensions = dict(error.extensions or {})
            extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
            error.extensions = extensions
            return error
        if isinstance(original, DomainError):
            error.extensions = {**(error.extensions or {}), **original.as_extensions()}
            return error
        if isinstance(original, GraphQLError):
            # graphql-core's own input errors (a variable that fails its
            # scalar's parsing) arrive wrapped like this, with no code.
            extensions = {**(original.extensions or {}), **(error.extensions or {})}
            extensions.setdefault("code", "BAD_USER_INPUT")
            error.extensions = extensions
            return error
        request_id = self._request_id()
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()),
            request_id,
            exc_info=original,
        )
        internal: dict[str, Any] = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        if not self.mask_unexpected:
            error.extensions = {**(error.extensions or {}), **internal}
            return error
        return GraphQLError(
            f"Internal server error (request id {request_id})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=internal,
        )

    def _request_id(self) -> str:
        context = self.execution_context.context
        return str(getattr(context, "request_id", "-"))


class MaskedErrorShaping(ErrorShaping):
    mask_unexpected = True
