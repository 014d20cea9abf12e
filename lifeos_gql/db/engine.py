"""The async SQLAlchemy engine (psycopg 3) and per-statement accounting.

Statement counting exists so tests can assert that the number of SQL
statements for a GraphQL query is bounded by its shape, not its rows.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from lifeos_gql.db.urls import sqlalchemy_url

_statement_log: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "lifeos_statement_log", default=None
)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"application_name": "lifeos-gql"},
    )
    event.listen(engine.sync_engine, "before_cursor_execute", _record_statement)
    return engine


def _record_statement(*args: Any) -> None:
    log = _statement_log.get()
    if log is not None:
        log.append(str(args[2]))


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Collect the SQL statements executed in this context (tests, benchmarks)."""
    log: list[str] = []
    token = _statement_log.set(log)
    try:
        yield log
    finally:
        _statement_log.reset(token)
