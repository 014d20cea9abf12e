"""Authenticate a WebSocket in ``connection_init``: ``{"authorization": "Bearer …"}``.

The same authenticator as HTTP (a JWT, or an API token), plus: the
credential must carry the SUBSCRIBE scope and must not have expired. Any
refusal raises ``ConnectionRejectionError``, which closes the socket with
4403 and says nothing about why (the server log does).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from strawberry.exceptions import ConnectionRejectionError

from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import DomainError
from lifeos_gql.runtime import Runtime

log = logging.getLogger("lifeos_gql.auth")


def _header(params: Mapping[str, object] | None) -> str | None:
    for key, value in (params or {}).items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


def _reject(reason: str) -> ConnectionRejectionError:
    log.info("websocket auth failure: %s", reason)
    return ConnectionRejectionError()


async def authenticate_connection(runtime: Runtime, params: Mapping[str, object] | None) -> Actor:
    """The connection's actor, or ``ConnectionRejectionError`` (closed with 4403)."""
    header = _header(params)
    if header is None:
        raise _reject("missing authorization")
    try:
        actor = await runtime.authenticator.authenticate(header)
    except DomainError as error:
        raise _reject(str(error.extensions.get("reason", error.code))) from None
    if not actor.is_authenticated:
        raise _reject("anonymous")
    if Scope.SUBSCRIBE not in actor.scopes:
        raise _reject("missing_scope")
    if actor.expires_at is not None and actor.expires_at <= utcnow():
        raise _reject("expired")
    return actor
