"""Process-wide resources made once in the lifespan and shared by requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifeos_gql.bootstrap import capture_limits
from lifeos_gql.config import Settings
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.captures.models import CaptureLimits

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from lifeos_gql.api.authn import Authenticator
    from lifeos_gql.api.subscriptions.dispatcher import EventDispatcher
    from lifeos_gql.domains.captures.service import CaptureCrypto
    from lifeos_gql.infra.embeddings.base import Embedder
    from lifeos_gql.infra.events import EventBus
    from lifeos_gql.infra.vectors.base import VectorIndex


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    db: Database
    authenticator: Authenticator
    capture_crypto: CaptureCrypto
    migration_head: str | None = None
    redis: Redis | None = None
    # Search embeds queries with the analysis embedder (vectors are only
    # comparable within one producer); None disables the MEANING signal.
    embedder: Embedder | None = None
    vectors: VectorIndex | None = None
    # The database handle for work done without (or beyond) one user's
    # row-level-security view: authentication lookups, webhooks, share-link
    # resolution, erasure. ``db`` runs as ``lifeos_app`` under RLS; the app
    # sets this to the privileged handle on the same engine (None: ``db``).
    privileged_db: Database | None = None
    # Live subscriptions: the bus (also what writers publish on) and this
    # process's dispatcher, started in the lifespan.
    events: EventBus | None = None
    subscriptions: EventDispatcher | None = None

    @property
    def system_db(self) -> Database:
        return self.privileged_db or self.db

    @property
    def capture_limits(self) -> CaptureLimits:
        return capture_limits(self.settings)
