"""Pinecone implementation of the vector index, over the ``pinecone`` SDK's async client.

Layout in the Pinecone index (dense, cosine, dimension of the embedder):

* one namespace per owner, ``owner-<uuid>``, so an owner's queries can never
  reach another owner's vectors and GDPR erasure is one ``deleteAll``;
* metadata ``{"node_type": str, "stream_ids": [str], "occurred_at": epoch seconds}``
  (``occurred_at`` omitted when unknown: Pinecone rejects null metadata).

The SDK's :class:`pinecone.AsyncIndex` is used directly (it speaks plain HTTP
to ``http://`` hosts, which the tests' local fake relies on). It retries 408,
429 and 5xx answers and connection errors itself (3 retries with jittered
back-off, honouring ``Retry-After``); what still fails afterwards is raised as
:class:`TransientVectorError`, everything else as :class:`VectorIndexError`.
Its HTTP connection pool binds to the event loop of the first call: use one
instance per event loop and close it with :meth:`PineconeIndex.aclose`.
Pinecone is eventually consistent: a query or ``count`` right after a write
may not see it yet.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, Final, TypeVar

from pinecone import (
    ApiError,
    AsyncIndex,
    NotFoundError,
    PineconeConnectionError,
    PineconeError,
    PineconeTimeoutError,
    RateLimitError,
    ServiceError,
)

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.vectors.base import (
    MatchMetadata,
    TransientVectorError,
    VectorIndexError,
    VectorMatch,
    VectorQuery,
    VectorRecord,
    check_query_args,
    epoch_to_occurred_at,
    filters_match_nothing,
    occurred_at_to_epoch,
)

T = TypeVar("T")

MAX_UPSERT_BATCH: Final = 1000  # Pinecone's cap on vectors per upsert request
DELETE_BATCH: Final = 1000  # Pinecone's cap on ids per delete request
MAX_TOP_K: Final = 10_000  # Pinecone's cap on top_k
_TRANSIENT_STATUS: Final = frozenset({408, 429})


def owner_namespace(owner_id: uuid.UUID) -> str:
    """The Pinecone namespace holding one owner's vectors."""
    return f"owner-{owner_id}"


class PineconeIndex:
    """A :class:`~lifeos_gql.infra.vectors.base.VectorIndex` backed by one Pinecone index."""

    def __init__(
        self,
        api_key: str,
        host: str,
        *,
        batch_size: int = 100,
        max_concurrency: int = 4,
        timeout: float = 30.0,
    ) -> None:
        """Prepare a client for the index at ``host``; no request is made until first use.

        Raises :class:`ConfigError` for an empty key, a malformed host or bad limits.
        """
        if not 1 <= batch_size <= MAX_UPSERT_BATCH:
            raise ConfigError(f"Pinecone batch_size must be between 1 and {MAX_UPSERT_BATCH}")
        if max_concurrency < 1:
            raise ConfigError("Pinecone max_concurrency must be at least 1")
        if not api_key:
            raise ConfigError("PINECONE_API_KEY is empty")
        try:
            self._index = AsyncIndex(
                host=host, api_key=api_key, timeout=timeout, source_tag="lifeos"
            )
        except PineconeError as exc:
            raise ConfigError(f"invalid Pinecone index host {host!r}: {exc}") from exc
        self._batch_size = batch_size
        self._max_concurrency = max_concurrency

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Write records in batches of ``batch_size``, one owner namespace per request.

        Up to ``max_concurrency`` batches are in flight; if any fails, the
        others are cancelled and the (idempotent) call can be retried whole.
        """
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_namespace.setdefault(owner_namespace(record.owner_id), []).append(_to_wire(record))
        await self._run_all(
            partial(self._upsert_batch, namespace, chunk)
            for namespace, vectors in by_namespace.items()
            for chunk in _chunks(vectors, self._batch_size)
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
        """Nearest neighbours in the owner's namespace, closest first (see the protocol).

        ``top_k`` plus the number of excluded ids is capped at Pinecone's 10,000.
        """
        check_query_args(top_k, vector)
        if filters_match_nothing(node_types, stream_ids):
            return []
        excluded = set(exclude_ids)
        # Pinecone cannot filter on ids, so fetch enough extra matches to drop them after.
        response = await self._call(
            "query",
            self._index.query(
                top_k=min(top_k + len(excluded), MAX_TOP_K),
                vector=[float(v) for v in vector],
                namespace=owner_namespace(owner_id),
                filter=_metadata_filter(node_types, stream_ids),
                include_metadata=True,
            ),
        )
        matches = [m for m in response.matches if m.id not in excluded][:top_k]
        return [
            VectorMatch(id=m.id, score=float(m.score), metadata=_from_wire(m.metadata or {}))
            for m in matches
        ]

    async def query_many(
        self,
        *,
        owner_id: uuid.UUID,
        queries: Sequence[VectorQuery],
        node_types: Sequence[str] | None = None,
        stream_ids: Sequence[str] | None = None,
    ) -> list[list[VectorMatch]]:
        """One :meth:`query` request per vector, up to ``max_concurrency`` in flight.

        Pinecone's data plane has no multi-vector query, so this saves wall
        time, not requests. If any query fails, the others are cancelled.
        """
        for q in queries:
            check_query_args(q.top_k, q.vector)
        return await self._gather(
            [
                partial(
                    self.query,
                    owner_id=owner_id,
                    vector=q.vector,
                    top_k=q.top_k,
                    node_types=node_types,
                    stream_ids=stream_ids,
                    exclude_ids=q.exclude_ids,
                )
                for q in queries
            ]
        )

    async def delete(self, *, owner_id: uuid.UUID, ids: Sequence[str]) -> None:
        """Delete ids from the owner's namespace, up to 1000 per request."""
        namespace = owner_namespace(owner_id)
        await self._run_all(
            partial(self._delete_batch, namespace, chunk)
            for chunk in _chunks(list(dict.fromkeys(ids)), DELETE_BATCH)
        )

    async def delete_owner(self, owner_id: uuid.UUID) -> None:
        """Delete everything in the owner's namespace (``deleteAll``)."""
        await self._ignore_missing_namespace(
            self._index.delete(delete_all=True, namespace=owner_namespace(owner_id))
        )

    async def count(self, owner_id: uuid.UUID) -> int:
        """Vector count of the owner's namespace from ``describe_index_stats``."""
        stats = await self._call("describe_index_stats", self._index.describe_index_stats())
        summary = stats.namespaces.get(owner_namespace(owner_id))
        return 0 if summary is None else int(summary.vector_count)

    async def aclose(self) -> None:
        """Close the SDK's HTTP connection pool."""
        await self._index.close()

    async def _upsert_batch(self, namespace: str, vectors: Sequence[dict[str, Any]]) -> None:
        await self._call("upsert", self._index.upsert(vectors=vectors, namespace=namespace))

    async def _delete_batch(self, namespace: str, ids: Sequence[str]) -> None:
        await self._ignore_missing_namespace(self._index.delete(ids=ids, namespace=namespace))

    async def _run_all(self, calls: Iterable[Callable[[], Awaitable[None]]]) -> None:
        await self._gather(list(calls))

    async def _gather(self, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """Run the calls with at most ``max_concurrency`` in flight; their results in
        order, or one mapped error."""
        if len(calls) <= 1:
            return [await call() for call in calls]
        semaphore = asyncio.Semaphore(self._max_concurrency)

        async def gated(call: Callable[[], Awaitable[T]]) -> T:
            # The coroutine is created only once a slot is free, so cancelled
            # waiters leave no never-awaited coroutines behind.
            async with semaphore:
                return await call()

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(gated(call)) for call in calls]
        except ExceptionGroup as group_error:
            raise _most_severe(group_error) from group_error
        return [task.result() for task in tasks]

    async def _call(self, operation: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except PineconeError as exc:
            raise _map_error(operation, exc) from exc

    async def _ignore_missing_namespace(self, call: Awaitable[None]) -> None:
        # Pinecone answers 404 when deleting from a namespace that does not exist
        # (yet, or any more); for a delete that is the desired end state.
        try:
            await call
        except NotFoundError:
            return
        except PineconeError as exc:
            raise _map_error("delete", exc) from exc


def _to_wire(record: VectorRecord) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "node_type": record.node_type,
        "stream_ids": [str(s) for s in record.stream_ids],
    }
    epoch = occurred_at_to_epoch(record.occurred_at)
    if epoch is not None:
        metadata["occurred_at"] = epoch
    # float() also turns numpy scalars into something the SDK's JSON encoder accepts.
    return {"id": record.id, "values": [float(v) for v in record.values], "metadata": metadata}


def _from_wire(metadata: Mapping[str, Any]) -> MatchMetadata:
    streams = metadata.get("stream_ids")
    return MatchMetadata(
        node_type=str(metadata.get("node_type", "")),
        stream_ids=[str(s) for s in streams] if isinstance(streams, list) else [],
        occurred_at=epoch_to_occurred_at(metadata.get("occurred_at")),
    )


def _metadata_filter(
    node_types: Sequence[str] | None, stream_ids: Sequence[str] | None
) -> dict[str, Any] | None:
    """Pinecone filter; fields side by side are AND-ed, ``$in`` on a list field is "any of"."""
    conditions: dict[str, Any] = {}
    if node_types is not None:
        conditions["node_type"] = {"$in": sorted(set(node_types))}
    if stream_ids is not None:
        conditions["stream_ids"] = {"$in": sorted({str(s) for s in stream_ids})}
    return conditions or None


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _map_error(operation: str, exc: PineconeError) -> VectorIndexError:
    message = f"Pinecone {operation} failed: {exc}"
    transient = isinstance(
        exc, RateLimitError | ServiceError | PineconeConnectionError | PineconeTimeoutError
    ) or (isinstance(exc, ApiError) and exc.status_code in _TRANSIENT_STATUS)
    return TransientVectorError(message) if transient else VectorIndexError(message)


def _most_severe(group: ExceptionGroup) -> Exception:
    """A permanent error wins over a transient one: retrying would not fix it."""
    leaves = _leaves(group)
    for exc in leaves:
        if isinstance(exc, VectorIndexError) and not isinstance(exc, TransientVectorError):
            return exc
    return leaves[0]


def _leaves(group: BaseExceptionGroup[Any]) -> list[Exception]:
    found: list[Exception] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found.extend(_leaves(exc))
        elif isinstance(exc, Exception):
            found.append(exc)
    return found
