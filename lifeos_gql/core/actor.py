"""Who is acting: resolved once per request and passed to every service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lifeos_gql.core.errors import Unauthenticated


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    SUBSCRIBE = "subscribe"


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated user (or ``None`` user for anonymous callers).

    ``scopes`` narrows what a personal access token may do; interactive
    sessions (JWTs) carry every scope. ``stream_id`` is set for a per-stream
    ingest token: such an actor may only add captures to that one stream.
    """

    user_id: uuid.UUID | None
    scopes: frozenset[Scope] = field(default=ALL_SCOPES)
    via: str = "anonymous"  # "jwt", "dev-jwt", "api-token", "ingest-token", "anonymous"
    stream_id: uuid.UUID | None = None
    # When the credential stops being valid (JWT ``exp``, API token expiry):
    # long-lived connections (WebSockets) close at this instant.
    expires_at: datetime | None = None
    token_id: uuid.UUID | None = None  # the API token acting, if any

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def require_user_id(self) -> uuid.UUID:
        """The acting user's id, or ``UNAUTHENTICATED`` for anonymous callers."""
        if self.user_id is None:
            raise Unauthenticated("Sign in to do this")
        return self.user_id

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None, scopes=frozenset(), via="anonymous")
