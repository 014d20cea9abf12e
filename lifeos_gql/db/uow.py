"""Units of work: one use case is one transaction, with the actor set in it.

``lifeos.actor_id`` is set per transaction (``set_config(..., true)``) so
row-level security policies can key on the acting user. Whether those
policies apply is the engine's login: the request path's ``Database``
logs in as ``lifeos_app``, ``runtime.system_db`` as the tables' owner.
See ``lifeos_gql.db.rls``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

_SET_ACTOR = text("SELECT set_config('lifeos.actor_id', :actor, true)")
# A request's reads: read only, so ending them with COMMIT (not ROLLBACK,
# which makes psycopg forget every prepared statement of the connection)
# can never keep a write, and hot queries stay prepared across requests.
_SET_READER = text(
    "SELECT set_config('lifeos.actor_id', :actor, true),"
    " set_config('transaction_read_only', 'on', true)"
)


class UnitOfWork:
    """A transaction on one connection; repositories take it as ``uow``."""

    def __init__(self, conn: AsyncConnection, actor_id: uuid.UUID | None) -> None:
        self.conn = conn
        self.actor_id = actor_id
        # Highest ``events`` row id appended in this transaction: published
        # to live subscribers once the transaction has committed.
        self.events_max_id: int | None = None

    def note_events(self, max_id: int) -> None:
        """Record that event rows up to ``max_id`` were appended here."""
        self.events_max_id = max(self.events_max_id or 0, max_id)

    async def execute(
        self,
        statement: Executable,
        params: Mapping[str, Any] | list[Mapping[str, Any]] | None = None,
    ) -> CursorResult[*tuple[Any, ...]]:
        return await self.conn.execute(statement, params)


class Database:
    """Owns the engine; hands out units of work and per-request readers."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Called with the highest event id after a transaction that appended
        # events commits (the event bus's publish; see infra/events).
        self.on_events_committed: Callable[[int], Awaitable[None]] | None = None

    async def begin_as(
        self, conn: AsyncConnection, actor_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        """Start ``conn``'s transaction as ``actor_id`` (``read_only``: refuse writes)."""
        statement = _SET_READER if read_only else _SET_ACTOR
        await conn.execute(statement, {"actor": str(actor_id) if actor_id else ""})

    @asynccontextmanager
    async def transaction(self, actor_id: uuid.UUID | None = None) -> AsyncIterator[UnitOfWork]:
        async with self.engine.connect() as conn, conn.begin():
            await self.begin_as(conn, actor_id)
            uow = UnitOfWork(conn, actor_id)
            yield uow
        # Published only after commit: a rolled-back change announces nothing.
        if uow.events_max_id is not None and self.on_events_committed is not None:
            await self.on_events_committed(uow.events_max_id)

    async def dispose(self) -> None:
        await self.engine.dispose()


class RequestReader:
    """A lazily opened read transaction shared by one request's loaders.

    Loaders of one request may dispatch concurrently; a lock serialises them
    on the single connection instead of taking one connection per loader.
    """

    def __init__(self, db: Database, actor_id: uuid.UUID | None) -> None:
        self._db = db
        self._actor_id = actor_id
        self._lock = asyncio.Lock()
        self._conn: AsyncConnection | None = None

    @asynccontextmanager
    async def use(self) -> AsyncIterator[UnitOfWork]:
        async with self._lock:
            if self._conn is None:
                conn = await self._db.engine.connect()
                await conn.begin()
                await self._db.begin_as(conn, self._actor_id, read_only=True)
                self._conn = conn
            yield UnitOfWork(self._conn, self._actor_id)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.commit()  # read only: nothing to keep (see _SET_READER)
            finally:
                await conn.close()
