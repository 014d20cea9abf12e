"""Postgres ``LISTEN/NOTIFY`` bus: several processes, no Redis.

Publishing is a ``pg_notify`` in its own short transaction, after the
change committed. The listener holds one connection per process.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lifeos_gql.db.urls import libpq_url
from lifeos_gql.infra.events.base import CHANNEL, EventBus, publish_quietly

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class PgNotifyBus(EventBus):
    name = "postgres"

    def __init__(self, database_url: str, engine: AsyncEngine) -> None:
        super().__init__()
        self._conninfo = libpq_url(database_url)
        self._engine = engine

    async def publish(self, max_id: int) -> None:
        async def send() -> None:
            async with self._engine.begin() as conn:
                await conn.execute(_NOTIFY, {"channel": CHANNEL, "payload": str(max_id)})

        await publish_quietly(self.name, send)

    async def _listen_once(self, ready: Callable[[], None]) -> None:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            ready()
            async for notify in conn.notifies():
                try:
                    self._deliver(int(notify.payload))
                except ValueError:
                    continue
        finally:
            await conn.close()
