"""Who is acting: resolved once per request and passed to every service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


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

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None, scopes=frozenset(), via="anonymous")
