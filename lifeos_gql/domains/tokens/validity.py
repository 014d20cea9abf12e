"""The one check every stored token (ingest or API) passes on each use."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import Unauthenticated
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.tokens import repository

# last_used_at is informational: one write a minute per token keeps a busy
# device from turning every request into an extra UPDATE.
TOUCH_EVERY = timedelta(minutes=1)


class StoredToken(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def last_used_at(self) -> datetime | None: ...


T = TypeVar("T", bound=StoredToken)


async def live_token(
    uow: UnitOfWork,
    found: tuple[T, bytes] | None,
    digest: bytes,
    *,
    kind: str,
    now: datetime | None = None,
) -> T:
    """``found`` (the row looked up by ``digest`` and its stored hash) if it is live.

    The hash is compared again in constant time; unknown, revoked and expired
    tokens are ``Unauthenticated`` with a reason naming ``kind`` ("ingest",
    "api"). Records the use at most once a minute.
    """
    label = "API" if kind == "api" else kind
    if found is None or not hmac.compare_digest(found[1], digest):
        raise Unauthenticated(f"Unknown {label} token", reason=f"unknown_{kind}_token")
    row = found[0]
    at = now or utcnow()
    if row.revoked_at is not None:
        raise Unauthenticated(f"This {label} token was revoked", reason=f"revoked_{kind}_token")
    if row.expires_at is not None and row.expires_at <= at:
        raise Unauthenticated(f"This {label} token has expired", reason=f"expired_{kind}_token")
    if row.last_used_at is None or row.last_used_at <= at - TOUCH_EVERY:
        await repository.touch(uow, row.id, at, TOUCH_EVERY)
    return row
