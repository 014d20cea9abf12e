"""Process-wide resources made once in the lifespan and shared by requests."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lifeos_gql.config import Settings
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.captures.models import CaptureLimits

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from lifeos_gql.api.authn import Authenticator
    from lifeos_gql.domains.captures.service import CaptureCrypto

log = logging.getLogger("lifeos_gql")


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    db: Database
    authenticator: Authenticator
    capture_crypto: CaptureCrypto
    migration_head: str | None = None
    redis: Redis | None = None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def capture_limits(self) -> CaptureLimits:
        return CaptureLimits(
            max_content_bytes=self.settings.lifeos_max_content_bytes,
            max_payload_bytes=self.settings.lifeos_max_payload_bytes,
            max_batch_items=self.settings.lifeos_max_batch_items,
        )
