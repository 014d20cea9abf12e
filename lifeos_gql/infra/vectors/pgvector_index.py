"""pgvector implementation of the vector index, on the ``embeddings`` table (migration 0003).

One row per (owner, node id, producer). ``producer`` is the embedder's name:
an index instance reads and writes only its own producer's vectors, so
vectors of different models are never compared. Scores are exact cosine
similarity, ``1 - (embedding <=> query)``, whichever plan found the rows.

Query plan: every query is filtered by owner (and producer, node types,
streams). The planner answers small owners exactly (primary key prefix
``owner_id``, then a sort) and large ones through the HNSW index, with
pgvector's iterative scan so filtered-out rows do not starve the result.
An approximate scan can still come back short (it gives up after
``hnsw.max_scan_tuples``); the same statement then falls back to an exact
scan, so a short answer always means "no more matching vectors".

Statements run in transactions whose actor is the vectors' owner, so
owner-keyed row-level security policies admit them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from lifeos_gql.db.uow import Database, UnitOfWork
from lifeos_gql.infra.embeddings.base import EMBEDDING_DIM
from lifeos_gql.infra.vectors.base import (
    MatchMetadata,
    TransientVectorError,
    VectorIndexError,
    VectorMatch,
    VectorQuery,
    VectorRecord,
    check_query_args,
    filters_match_nothing,
    is_degenerate_vector,
)

UPSERT_BATCH: Final = 500  # rows per INSERT; ~0.8 MB of JSON at 384 dimensions
MAX_EF_SEARCH: Final = 1000  # pgvector's upper bound for hnsw.ef_search
MIN_EF_SEARCH: Final = 100
# SQLSTATE classes worth a retry: connection (08), rollback (40: serialization,
# deadlock), insufficient resources (53), operator intervention (57: shutdown,
# cancel on statement timeout).
_TRANSIENT_SQLSTATE_CLASSES: Final = frozenset({"08", "40", "53", "57"})

_UPSERT = text(
    """
    INSERT INTO embeddings AS e
        (owner_id, node_id, producer, node_type, stream_ids, occurred_at, embedding, updated_at)
    SELECT r.owner_id, r.node_id, :producer, r.node_type, r.stream_ids, r.occurred_at,
           CAST(r.embedding AS vector), now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        owner_id uuid, node_id text, node_type text, stream_ids text[],
        occurred_at timestamptz, embedding real[])
    ON CONFLICT (owner_id, node_id, producer) DO UPDATE SET
        node_type = excluded.node_type,
        stream_ids = excluded.stream_ids,
        occurred_at = excluded.occurred_at,
        embedding = excluded.embedding,
        updated_at = excluded.updated_at
    """
)
# relaxed_order lets the iterative scan return rows slightly out of order;
# results are re-sorted by their exact score in Python.
_TUNE_HNSW = text(
    "SELECT set_config('hnsw.ef_search', :ef_search, true),"
    " set_config('hnsw.iterative_scan', 'relaxed_order', true)"
)
_DELETE = text(
    "DELETE FROM embeddings WHERE owner_id = :owner_id AND node_id = ANY(CAST(:ids AS text[]))"
)
_DELETE_OWNER = text("DELETE FROM embeddings WHERE owner_id = :owner_id")
_COUNT = text("SELECT count(*) FROM embeddings WHERE owner_id = :owner_id AND producer = :producer")


def _query_sql(*, by_type: bool, by_stream: bool, excluding: bool) -> str:
    """The k-NN statement: approximate first, exact when the approximate answer is short.

    Both branches are gated by a one-time filter on the approximate row count,
    so Postgres runs the exact scan only when it is needed. ``+ 0`` keeps the
    exact branch from matching the HNSW index's ordering.
    """
    conditions = ["owner_id = :owner_id", "producer = :producer"]
    if by_type:
        conditions.append("node_type = ANY(CAST(:node_types AS text[]))")
    if by_stream:
        conditions.append("stream_ids && CAST(:stream_ids AS text[])")
    if excluding:
        conditions.append("node_id <> ALL(CAST(:exclude_ids AS text[]))")
    where = " AND ".join(conditions)
    # The query vector is repeated as a bound parameter rather than taken from a
    # CTE: an index-ordered scan needs a constant on the right of ``<=>``.
    distance = "embedding <=> CAST(:vector AS vector)"
    columns = f"node_id, node_type, stream_ids, occurred_at, 1 - ({distance}) AS score"
    return _approximate_else_exact(columns, where, distance)


def _approximate_else_exact(columns: str, where: str, distance: str) -> str:
    """The index-ordered (approximate) top ``:top_k``, or, when it comes back
    short (filters the HNSW walk did not reach), the exact top ``:top_k``."""
    return f"""
        WITH ann AS MATERIALIZED (
            SELECT {columns} FROM embeddings WHERE {where}
            ORDER BY {distance} LIMIT :top_k
        )
        SELECT * FROM ann WHERE (SELECT count(*) FROM ann) >= :top_k
        UNION ALL
        SELECT * FROM (
            SELECT {columns} FROM embeddings WHERE {where}
            ORDER BY ({distance}) + 0 LIMIT :top_k
        ) AS exact WHERE (SELECT count(*) FROM ann) < :top_k
    """


def _query_many_sql(*, by_type: bool, by_stream: bool) -> str:
    """:func:`_query_sql` for several query vectors in one statement.

    Each vector of ``:vectors`` (in order, numbered by ``WITH ORDINALITY``)
    drives a LATERAL copy of the single-vector statement. Inside the lateral,
    ``q.v`` is a per-row parameter, which the HNSW index accepts as its
    ordering argument, and it costs like the single query's constant, so each
    copy gets the single query's plan (HNSW or exact) for the same owner.
    The LIMIT is one bound parameter for all vectors, not a per-row column:
    the planner must know it to cost the index scan (with a per-row limit it
    assumes a tenth of the rows, which favours a full sort). Exclusions are
    applied by the caller on over-fetched rows, so the lateral needs no
    per-vector filter.
    """
    conditions = ["owner_id = :owner_id", "producer = :producer"]
    if by_type:
        conditions.append("node_type = ANY(CAST(:node_types AS text[]))")
    if by_stream:
        conditions.append("stream_ids && CAST(:stream_ids AS text[])")
    where = " AND ".join(conditions)
    distance = "embedding <=> q.v"
    columns = f"node_id, node_type, stream_ids, occurred_at, 1 - ({distance}) AS score"
    return f"""
        SELECT q.ord, hit.* FROM unnest(CAST(:vectors AS vector[])) WITH ORDINALITY AS q(v, ord)
        CROSS JOIN LATERAL ({_approximate_else_exact(columns, where, distance)}) AS hit
    """


class PgVectorIndex:
    """A :class:`~lifeos_gql.infra.vectors.base.VectorIndex` on Postgres + pgvector."""

    def __init__(self, db: Database, *, producer: str, dimension: int = EMBEDDING_DIM) -> None:
        """Use ``db``'s engine (not owned: the lifespan disposes it) for ``producer``'s vectors.

        ``dimension`` must match the ``embeddings.embedding`` column.
        """
        if not producer:
            raise ValueError("producer must be non-empty")
        if dimension < 1:
            raise ValueError("dimension must be at least 1")
        self._db = db
        self._producer = producer
        self._dimension = dimension

    @property
    def producer(self) -> str:
        """The embedder name this index reads and writes."""
        return self._producer

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or replace records: one transaction per owner, multi-row inserts.

        Every record is validated before anything is written. Within one call
        a repeated (owner, id) keeps its last record.
        """
        by_owner: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
        for record in records:
            self._check_vector(record.values)
            by_owner.setdefault(record.owner_id, {})[record.id] = _to_row(record)
        for owner_id, rows in by_owner.items():
            async with self._transaction(owner_id) as uow:
                for batch in _chunks(list(rows.values()), UPSERT_BATCH):
                    await uow.execute(
                        _UPSERT, {"producer": self._producer, "rows": orjson.dumps(batch).decode()}
                    )

    async def query(
        self,
        *,
        owner_id: uuid.UUID,
        vector: Sequence[float],
        top_k: int,
        node_types: Sequence[str] | None = None,
        stream_ids: Sequence[str] | None = None,
        exclude_ids: Sequence[str] = (),
    ) -> list[VectorMatch]:
        """The owner's ``top_k`` nearest nodes of this producer, closest first (see the protocol)."""
        check_query_args(top_k, vector)
        self._check_vector(vector)
        if filters_match_nothing(node_types, stream_ids):
            return []
        statement = text(
            _query_sql(
                by_type=node_types is not None,
                by_stream=stream_ids is not None,
                excluding=bool(exclude_ids),
            )
        )
        params: dict[str, Any] = {
            "owner_id": owner_id,
            "producer": self._producer,
            "vector": _vector_literal(vector),
            "top_k": top_k,
            "node_types": list(node_types or ()),
            "stream_ids": [str(s) for s in stream_ids or ()],
            "exclude_ids": list(exclude_ids),
        }
        # The beam must be at least top_k wide to return top_k good candidates.
        ef_search = max(MIN_EF_SEARCH, min(MAX_EF_SEARCH, 2 * top_k))
        async with self._transaction(owner_id) as uow:
            await uow.execute(_TUNE_HNSW, {"ef_search": str(ef_search)})
            rows = (await uow.execute(statement, params)).all()
        matches = [_to_match(row) for row in rows]
        # Highest score first; ties broken by id so results are deterministic.
        matches.sort(key=lambda m: (-m.score, m.id))
        return matches

    async def query_many(
        self,
        *,
        owner_id: uuid.UUID,
        queries: Sequence[VectorQuery],
        node_types: Sequence[str] | None = None,
        stream_ids: Sequence[str] | None = None,
    ) -> list[list[VectorMatch]]:
        """Every query's nearest nodes in one statement (see :func:`_query_many_sql`).

        All vectors share one LIMIT, wide enough for the widest query plus
        its exclusions; each answer is then cut to its own ``top_k`` after
        dropping its excluded ids, which leaves what :meth:`query` returns.
        """
        for q in queries:
            check_query_args(q.top_k, q.vector)
            self._check_vector(q.vector)
        if not queries or filters_match_nothing(node_types, stream_ids):
            return [[] for _ in queries]
        limit = max(q.top_k + len(set(q.exclude_ids)) for q in queries)
        statement = text(
            _query_many_sql(by_type=node_types is not None, by_stream=stream_ids is not None)
        )
        params: dict[str, Any] = {
            "owner_id": owner_id,
            "producer": self._producer,
            "vectors": [_vector_literal(q.vector) for q in queries],
            "top_k": limit,
            "node_types": list(node_types or ()),
            "stream_ids": [str(s) for s in stream_ids or ()],
        }
        ef_search = max(MIN_EF_SEARCH, min(MAX_EF_SEARCH, 2 * limit))
        async with self._transaction(owner_id) as uow:
            await uow.execute(_TUNE_HNSW, {"ef_search": str(ef_search)})
            rows = (await uow.execute(statement, params)).all()
        found: list[list[VectorMatch]] = [[] for _ in queries]
        for row in rows:
            found[row.ord - 1].append(_to_match(row))
        answers = []
        for q, matches in zip(queries, found, strict=True):
            excluded = set(q.exclude_ids)
            # Highest score first; ties broken by id, as in query().
            matches.sort(key=lambda m: (-m.score, m.id))
            answers.append([m for m in matches if m.id not in excluded][: q.top_k])
        return answers

    async def delete(self, *, owner_id: uuid.UUID, ids: Sequence[str]) -> None:
        """Delete the owner's nodes with these ids, under every producer (the node is gone)."""
        if not ids:
            return
        async with self._transaction(owner_id) as uow:
            await uow.execute(_DELETE, {"owner_id": owner_id, "ids": list(dict.fromkeys(ids))})

    async def delete_owner(self, owner_id: uuid.UUID) -> None:
        """Erase every vector of the owner, of every producer (GDPR erasure)."""
        async with self._transaction(owner_id) as uow:
            await uow.execute(_DELETE_OWNER, {"owner_id": owner_id})

    async def count(self, owner_id: uuid.UUID) -> int:
        """Number of the owner's vectors of this producer."""
        async with self._transaction(owner_id) as uow:
            result = await uow.execute(_COUNT, {"owner_id": owner_id, "producer": self._producer})
            return int(result.scalar_one())

    async def aclose(self) -> None:
        """Nothing to release: the engine belongs to the :class:`Database`."""

    def _check_vector(self, values: Sequence[float]) -> None:
        if len(values) != self._dimension:
            raise VectorIndexError(
                f"vector dimension {len(values)} does not match the index dimension "
                f"{self._dimension}"
            )
        if is_degenerate_vector(values):
            raise VectorIndexError("vector must be finite with at least one non-zero value")

    @asynccontextmanager
    async def _transaction(self, owner_id: uuid.UUID) -> AsyncIterator[UnitOfWork]:
        """``db.transaction(owner)`` whose database errors surface as vector-index errors."""
        try:
            async with self._db.transaction(owner_id) as uow:
                yield uow
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
            raise _map_error(error) from error


def _map_error(error: sa_exc.DBAPIError | sa_exc.TimeoutError) -> VectorIndexError:
    if isinstance(error, sa_exc.TimeoutError):  # connection pool exhausted
        return TransientVectorError(f"pgvector: no database connection available: {error}")
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    message = f"pgvector: {error.orig}"
    if error.connection_invalidated or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES:
        return TransientVectorError(message)
    return VectorIndexError(message)


def _to_row(record: VectorRecord) -> dict[str, Any]:
    return {
        "owner_id": str(record.owner_id),
        "node_id": record.id,
        "node_type": record.node_type,
        "stream_ids": [str(s) for s in record.stream_ids],
        "occurred_at": _as_utc(record.occurred_at).isoformat() if record.occurred_at else None,
        # float() also turns numpy scalars into plain floats orjson can encode.
        "embedding": [float(v) for v in record.values],
    }


def _to_match(row: Any) -> VectorMatch:
    occurred_at: datetime | None = row.occurred_at
    return VectorMatch(
        id=row.node_id,
        score=float(row.score),
        metadata=MatchMetadata(
            node_type=row.node_type,
            stream_ids=list(row.stream_ids),
            occurred_at=occurred_at.astimezone(UTC) if occurred_at else None,
        ),
    )


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC, as in the other implementations."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _vector_literal(values: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
