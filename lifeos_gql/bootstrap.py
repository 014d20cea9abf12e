"""Database and crypto without the HTTP server, for commands and scripts.

``lifeos-gql import``, ``rotate-master-key`` and benchmarks need what the
app's lifespan makes (a migrated database, the engine, the capture crypto)
but none of the web stack, so they open a :class:`CoreRuntime` here::

    async with open_runtime(settings) as rt:
        async with rt.db.transaction(user_id) as uow: ...

``rt.db`` runs as ``lifeos_app`` under row-level security (a user's view);
``rt.system_db`` is the privileged handle for work beyond one user's view
(jobs, provisioning, key storage). Both share one engine.

``resolve_database_url`` and ``build_capture_crypto`` live here so the app's
lifespan can share them without the commands importing Starlette/Strawberry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from lifeos_gql.config import Settings
from lifeos_gql.db import migrate
from lifeos_gql.db.embedded import start_embedded_postgres
from lifeos_gql.db.engine import create_engine
from lifeos_gql.db.rls import app_database_url, check_app_login
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.captures.models import CaptureLimits
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.privacy.key_store import PgDataKeyStore
from lifeos_gql.infra.crypto.fields import FieldCipher
from lifeos_gql.infra.crypto.keystore import KeyService
from lifeos_gql.infra.crypto.master_keys import MasterKeyring
from lifeos_gql.infra.events import EventBus, build_event_bus


def resolve_database_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set, else the embedded server (started here)."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.lifeos_data_dir)


def build_keyring(settings: Settings) -> MasterKeyring:
    """Current master key (generated into the data dir in dev) plus previous ones."""
    return MasterKeyring.from_settings(
        settings.lifeos_master_key,
        settings.lifeos_previous_master_keys,
        settings.lifeos_data_dir,
        allow_generate=not settings.is_prod,
    )


def build_capture_crypto(settings: Settings, db: Database) -> CaptureCrypto:
    """Master keyring, the Postgres data-key store and the field cipher."""
    cipher = FieldCipher()
    keys = KeyService(build_keyring(settings), PgDataKeyStore(db), cipher=cipher)
    return CaptureCrypto(keys, cipher)


def capture_limits(settings: Settings) -> CaptureLimits:
    """The capture size and batch limits from settings."""
    return CaptureLimits(
        max_content_bytes=settings.lifeos_max_content_bytes,
        max_payload_bytes=settings.lifeos_max_payload_bytes,
        max_batch_items=settings.lifeos_max_batch_items,
    )


@dataclass(frozen=True, slots=True)
class CoreRuntime:
    """The server-less subset of the app's ``Runtime``: store and crypto."""

    settings: Settings
    database_url: str
    engine: AsyncEngine
    db: Database
    capture_crypto: CaptureCrypto
    # Privileged (the login user, RLS not applied): see the module docstring.
    system_db: Database
    # Announces committed ``events`` rows to live subscribers (every process
    # that writes publishes; the API's lifespan also listens on it).
    events: EventBus | None = None

    @property
    def capture_limits(self) -> CaptureLimits:
        """Same limits the API enforces."""
        return capture_limits(self.settings)


async def prepare_database(settings: Settings) -> str:
    """Resolve the URL and migrate (or check) the schema, as the lifespan does."""
    url = await asyncio.to_thread(resolve_database_url, settings)
    if settings.lifeos_auto_migrate:
        await asyncio.to_thread(migrate.upgrade, url)
    else:
        await asyncio.to_thread(migrate.check_pgvector, url)
    return url


@asynccontextmanager
async def open_runtime(settings: Settings, *, pool_size: int = 2) -> AsyncIterator[CoreRuntime]:
    """Open the database (migrated) and capture crypto; dispose on exit.

    A command uses a connection or two at a time, so the pool stays small
    rather than taking ``DATABASE_POOL_SIZE`` slots from the servers.
    """
    url = await prepare_database(settings)
    engine = create_engine(url, pool_size=pool_size)
    # The request path logs in as the row-level-security role on its own pool.
    app_engine = create_engine(
        app_database_url(url, settings.database_app_url), pool_size=pool_size
    )
    db = Database(app_engine)
    system_db = Database(engine)
    events = build_event_bus(settings, database_url=url, engine=engine)
    db.on_events_committed = system_db.on_events_committed = events.publish
    try:
        await check_app_login(app_engine)
        yield CoreRuntime(
            settings=settings,
            database_url=url,
            engine=engine,
            db=db,
            # Data keys are read for whichever owner's rows are being sealed
            # or opened (a collaborator's capture is sealed with the stream
            # owner's key): the key store is infrastructure, not a user's view.
            capture_crypto=build_capture_crypto(settings, system_db),
            system_db=system_db,
            events=events,
        )
    finally:
        await events.aclose()
        await app_engine.dispose()
        await engine.dispose()
