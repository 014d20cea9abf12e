"""Tokens as the service hands them out (never the secret or its hash)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lifeos_gql.core.actor import Scope


@dataclass(frozen=True, slots=True)
class IngestToken:
    """A row of ``api_tokens`` bound to one stream.

    ``owner_id`` is the user who created the token; the token acts as them.
    ``prefix`` is the first characters of the secret, shown in lists so a
    user can tell tokens apart without the secret ever being stored.
    """

    id: uuid.UUID
    owner_id: uuid.UUID
    stream_id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A personal access token: a row of ``api_tokens`` with no stream.

    It acts as ``owner_id`` with ``scopes`` (a subset of read, write,
    subscribe). ``prefix`` tells tokens apart in a list; neither the secret
    nor its hash ever leaves the repository.
    """

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
