"""In-process vector index: numpy brute force with the same semantics as the real ones.

Meant for unit tests of higher layers and tiny single-process setups; state
lives in this object only and is lost with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from lifeos_gql.infra.vectors.base import (
    MatchMetadata,
    VectorIndexError,
    VectorMatch,
    VectorQuery,
    VectorRecord,
    check_query_args,
    filters_match_nothing,
    is_degenerate_vector,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Stored:
    unit: FloatArray  # normalised once at write time, so a query is one matrix product
    node_type: str
    stream_ids: tuple[str, ...]
    occurred_at: datetime | None


class InMemoryVectorIndex:
    """A :class:`~lifeos_gql.infra.vectors.base.VectorIndex` held in a dict per owner."""

    def __init__(self, *, dimension: int | None = None) -> None:
        """Fix the dimension up front, or let the first upsert fix it."""
        self._dimension = dimension
        self._owners: dict[uuid.UUID, dict[str, _Stored]] = {}

    @property
    def dimension(self) -> int | None:
        """The dimension every vector must have (``None`` until known)."""
        return self._dimension

    async def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or replace records; all are validated before any is written."""
        prepared = [(record, self._unit(record.values)) for record in records]
        for record, unit in prepared:
            self._owners.setdefault(record.owner_id, {})[record.id] = _Stored(
                unit=unit,
                node_type=record.node_type,
                stream_ids=tuple(record.stream_ids),
                occurred_at=record.occurred_at,
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
        """Rank the owner's matching records by cosine similarity, closest first."""
        check_query_args(top_k, vector)
        query_unit = self._unit(vector)
        if filters_match_nothing(node_types, stream_ids):
            return []
        wanted_types = None if node_types is None else set(node_types)
        wanted_streams = None if stream_ids is None else set(stream_ids)
        excluded = set(exclude_ids)
        candidates = [
            (node_id, stored)
            for node_id, stored in self._owners.get(owner_id, {}).items()
            if node_id not in excluded
            and (wanted_types is None or stored.node_type in wanted_types)
            and (wanted_streams is None or not wanted_streams.isdisjoint(stored.stream_ids))
        ]
        if not candidates:
            return []
        scores = np.stack([stored.unit for _, stored in candidates]) @ query_unit
        ids = [node_id for node_id, _ in candidates]
        # Highest score first; ties broken by id so results are deterministic.
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:top_k]
        return [
            VectorMatch(
                id=ids[i],
                score=float(scores[i]),
                metadata=MatchMetadata(
                    node_type=candidates[i][1].node_type,
                    stream_ids=list(candidates[i][1].stream_ids),
                    occurred_at=candidates[i][1].occurred_at,
                ),
            )
            for i in order
        ]

    async def query_many(
        self,
        *,
        owner_id: uuid.UUID,
        queries: Sequence[VectorQuery],
        node_types: Sequence[str] | None = None,
        stream_ids: Sequence[str] | None = None,
    ) -> list[list[VectorMatch]]:
        """One :meth:`query` per query vector (in process there is no round trip to save)."""
        return [
            await self.query(
                owner_id=owner_id,
                vector=q.vector,
                top_k=q.top_k,
                node_types=node_types,
                stream_ids=stream_ids,
                exclude_ids=q.exclude_ids,
            )
            for q in queries
        ]

    async def delete(self, *, owner_id: uuid.UUID, ids: Sequence[str]) -> None:
        """Delete the owner's records with these ids; unknown ids are ignored."""
        owned = self._owners.get(owner_id)
        if owned is None:
            return
        for node_id in ids:
            owned.pop(node_id, None)
        if not owned:
            del self._owners[owner_id]

    async def delete_owner(self, owner_id: uuid.UUID) -> None:
        """Erase every record of the owner."""
        self._owners.pop(owner_id, None)

    async def count(self, owner_id: uuid.UUID) -> int:
        """Number of records the owner has."""
        return len(self._owners.get(owner_id, {}))

    async def aclose(self) -> None:
        """Nothing to release."""

    def _unit(self, values: Sequence[float]) -> FloatArray:
        """Validate the dimension (fixing it on first use) and normalise to unit length."""
        if self._dimension is None:
            if not values:
                raise VectorIndexError("vector must be non-empty")
            self._dimension = len(values)
        if len(values) != self._dimension:
            raise VectorIndexError(
                f"vector dimension {len(values)} does not match the index dimension "
                f"{self._dimension}"
            )
        if is_degenerate_vector(values):
            raise VectorIndexError("vector must be finite with at least one non-zero value")
        array = np.asarray(values, dtype=np.float64)
        unit: FloatArray = array / np.linalg.norm(array)
        return unit
