"""Choose the bus once from settings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from lifeos_gql.config import Settings
from lifeos_gql.infra.events.base import EventBus


def build_event_bus(settings: Settings, *, database_url: str, engine: AsyncEngine) -> EventBus:
    """``LIFEOS_EVENT_BUS``: ``auto`` is Redis with ``REDIS_URL``, else Postgres NOTIFY."""
    choice = settings.lifeos_event_bus
    if choice == "auto":
        choice = "redis" if settings.redis_url else "postgres"
    if choice == "redis":
        from lifeos_gql.infra.events.redis_bus import RedisBus

        if not settings.redis_url:
            from lifeos_gql.core.errors import ConfigError

            raise ConfigError("LIFEOS_EVENT_BUS=redis needs REDIS_URL")
        return RedisBus(settings.redis_url)
    if choice == "postgres":
        from lifeos_gql.infra.events.pg_notify import PgNotifyBus

        return PgNotifyBus(database_url, engine)
    from lifeos_gql.infra.events.inprocess import InProcessBus

    return InProcessBus()
