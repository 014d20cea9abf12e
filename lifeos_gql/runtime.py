"""Process-wide resources made once in the lifespan and shared by requests."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lifeos_gql.config import Settings
from lifeos_gql.db.uow import Database

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from lifeos_gql.api.authn import Authenticator

log = logging.getLogger("lifeos_gql")


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    db: Database
    authenticator: Authenticator
    migration_head: str | None = None
    redis: Redis | None = None
    extras: dict[str, object] = field(default_factory=dict)
