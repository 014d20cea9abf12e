"""The vector index interface: nearest-neighbour search over node embeddings.

Two implementations sit behind :class:`VectorIndex`: pgvector in the primary
store (embedded default) and Pinecone (production); an in-memory one serves
unit tests of higher layers. All share these semantics:

* Every record belongs to one owner, and every operation is scoped to one
  owner: a query never returns another owner's vectors.
* Scores are cosine similarity (higher is closer, at most 1.0).
* An upsert of an existing id replaces its values and metadata.
* Deleting ids that do not exist is not an error; erasing an owner who has
  nothing indexed is not an error either.
* All vectors of one index share one dimension; a mismatch and an all-zero
  vector (no direction, so no cosine) raise :class:`VectorIndexError`.

Visibility: the index is **not** a permission wall. Filtering by
``stream_ids`` is a first cut that keeps obviously foreign nodes out of the
candidate list; callers must still apply the sharing policy's visibility rules
to every returned id (an insight is visible only if every capture in its
lineage is, a concept only through visible captures) and drop what the reader
may not see, without revealing that it existed.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, TypedDict, get_args

NodeType = Literal["capture", "insight", "concept"]
NODE_TYPES: Final[frozenset[str]] = frozenset(get_args(NodeType))


class VectorIndexError(Exception):
    """The vector index refused or failed an operation; retrying will not help."""


class TransientVectorError(VectorIndexError):
    """Rate limit, server error or lost connection: the same call may succeed later."""


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """One node's embedding and the metadata the index filters on."""

    id: str
    values: Sequence[float]
    owner_id: uuid.UUID
    node_type: str
    stream_ids: list[str]
    occurred_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("VectorRecord.id must be non-empty")
        if self.node_type not in NODE_TYPES:
            raise ValueError(f"unknown node_type {self.node_type!r}")


class MatchMetadata(TypedDict):
    """The metadata every implementation returns with a match."""

    node_type: str
    stream_ids: list[str]
    occurred_at: datetime | None


@dataclass(frozen=True, slots=True)
class VectorMatch:
    """A query hit: node id, cosine similarity and the node's index metadata."""

    id: str
    score: float
    metadata: MatchMetadata


@dataclass(frozen=True, slots=True)
class VectorQuery:
    """One query vector of a :meth:`VectorIndex.query_many` call, with its own limits."""

    vector: Sequence[float]
    top_k: int
    exclude_ids: Sequence[str] = ()


class VectorIndex(Protocol):
    """Owner-scoped nearest-neighbour index over capture, insight and concept nodes.

    Results are candidates, not answers: apply visibility rules to the ids.
    """

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or replace records (any owners, any number; batched internally).

        Idempotent, so a failed call may be retried whole; on failure some
        batches may already have landed.
        """
        ...

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
        """Return up to ``top_k`` of the owner's nodes nearest to ``vector``, closest first.

        ``node_types``/``stream_ids`` of ``None`` mean "any"; an empty sequence
        matches nothing. A node matches ``stream_ids`` when it belongs to at
        least one of them. ``exclude_ids`` (e.g. the query node itself) never
        appear in the result and do not use up ``top_k``.
        """
        ...

    async def query_many(
        self,
        *,
        owner_id: uuid.UUID,
        queries: Sequence[VectorQuery],
        node_types: Sequence[str] | None = None,
        stream_ids: Sequence[str] | None = None,
    ) -> list[list[VectorMatch]]:
        """:meth:`query` for several vectors of one owner under the same filters.

        The answer has one list per query, in order, each exactly what
        :meth:`query` with that query's vector, ``top_k`` and ``exclude_ids``
        would return. Implementations answer in as few round trips as their
        backend allows (pgvector: one statement).
        """
        ...

    async def delete(self, *, owner_id: uuid.UUID, ids: Sequence[str]) -> None:
        """Delete the owner's records with these ids; unknown ids are ignored."""
        ...

    async def delete_owner(self, owner_id: uuid.UUID) -> None:
        """Erase every record of the owner (GDPR erasure)."""
        ...

    async def count(self, owner_id: uuid.UUID) -> int:
        """Number of records the owner has in the index (may lag writes on Pinecone)."""
        ...

    async def aclose(self) -> None:
        """Release connections; call once from the application's lifespan."""
        ...


def check_query_args(top_k: int, vector: Sequence[float]) -> None:
    """Reject arguments that are programming errors in every implementation."""
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    if not vector:
        raise ValueError("vector must be non-empty")


def filters_match_nothing(
    node_types: Sequence[str] | None, stream_ids: Sequence[str] | None
) -> bool:
    """True when an explicitly empty filter makes any query result empty."""
    return (node_types is not None and not node_types) or (
        stream_ids is not None and not stream_ids
    )


def is_degenerate_vector(values: Sequence[float]) -> bool:
    """True when cosine similarity is undefined: all zeros, NaN or infinite components."""
    return not any(v != 0.0 for v in values) or not all(math.isfinite(v) for v in values)


def occurred_at_to_epoch(value: datetime | None) -> float | None:
    """Encode ``occurred_at`` as epoch seconds (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def epoch_to_occurred_at(value: Any) -> datetime | None:
    """Decode epoch seconds back to an aware UTC datetime (``None`` if absent)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, tz=UTC)
