"""Per-request DataLoaders: every relationship field resolves through one.

Made in ``get_context`` for each HTTP request (and per event on
WebSockets), never at module level, so caches never leak across users.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader

from lifeos_gql.core.actor import Actor
from lifeos_gql.db.uow import RequestReader, UnitOfWork
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto, StreamPageKey
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.graph.models import ConceptRecord, EdgeRecord
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.insights.models import InsightRecord
from lifeos_gql.domains.insights.service import StreamInsightsKey
from lifeos_gql.domains.search import service as search
from lifeos_gql.domains.search.service import SimilarKey
from lifeos_gql.domains.sharing import grants, personas
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.sharing.models import GrantRecord, PersonaRecord, PersonaShareRecord
from lifeos_gql.domains.sharing.policy import Role
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import Stream
from lifeos_gql.domains.users import service as users
from lifeos_gql.domains.users.models import User
from lifeos_gql.infra.embeddings.base import Embedder
from lifeos_gql.infra.vectors.base import VectorIndex

K = TypeVar("K")
V = TypeVar("V")

BatchFn = Callable[[UnitOfWork, Sequence[Any]], Awaitable[Mapping[Any, Any]]]


class MappingLoader(DataLoader[K, V | None]):
    """A DataLoader whose batch function returns a mapping; missing keys load as None."""

    def __init__(self, reader: RequestReader, fetch: BatchFn) -> None:
        super().__init__()
        self._reader = reader
        self._fetch = fetch

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V | None]:
        async with self._reader.use() as uow:
            found = await self._fetch(uow, list(dict.fromkeys(keys)))
        return [found.get(key) for key in keys]

    async def get(self, key: K) -> V | None:
        result: V | None = await self.load(key)
        return result


#: A field of the acting user's own and its arguments, e.g. ("apiTokens", user id, 50).
OwnKey = tuple[Hashable, ...]
R = TypeVar("R")
OwnFetch = Callable[[UnitOfWork], Awaitable[Any]]


class OwnLoader(DataLoader[OwnKey, Any]):
    """The acting user's own lists (``User``'s private fields, self-only).

    Their arguments, not a parent row, key them: however often the user
    appears in one response, each distinct field and arguments is fetched
    once per request, so the statements stay bounded by the query's shape.
    """

    def __init__(self, reader: RequestReader) -> None:
        super().__init__()
        self._reader = reader
        self._fetches: dict[OwnKey, OwnFetch] = {}

    async def batch_load_fn(self, keys: Sequence[OwnKey]) -> list[Any]:
        async with self._reader.use() as uow:
            return [await self._fetches[key](uow) for key in keys]

    async def fetch(self, key: OwnKey, fetch: Callable[[UnitOfWork], Awaitable[R]]) -> R:
        """The result for ``key``, fetched by ``fetch`` unless this request already did."""
        self._fetches.setdefault(key, fetch)
        result: R = await self.load(key)
        return result


async def _users(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, User]:
    return await users.users_by_ids(uow=uow, ids=ids)


class Loaders:
    """One set per request; each batch function applies visibility for ``actor``."""

    def __init__(
        self,
        reader: RequestReader,
        actor: Actor,
        crypto: CaptureCrypto,
        *,
        embedder: Embedder | None = None,
        vectors: VectorIndex | None = None,
    ) -> None:
        """``embedder`` and ``vectors`` serve ``Capture.similar`` (none: no similar captures)."""

        async def streams_(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, Stream]:
            return await streams.streams_by_ids(uow=uow, actor=actor, ids=ids)

        async def roles(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, Role]:
            return await sharing.stream_roles(uow=uow, actor=actor, stream_ids=ids)

        async def captures_(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, CaptureRecord]:
            return await captures.captures_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)

        async def insights_(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, InsightRecord]:
            return await insights.insights_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)

        async def capture_insights(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[InsightRecord]]:
            return await insights.insights_by_capture_ids(
                uow=uow, actor=actor, crypto=crypto, capture_ids=ids
            )

        async def concepts_(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, ConceptRecord]:
            return await graph.concepts_by_ids(uow=uow, actor=actor, ids=ids)

        async def capture_concepts(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[tuple[ConceptRecord, float]]]:
            return await graph.concepts_by_capture_ids(uow=uow, actor=actor, capture_ids=ids)

        async def node_edges(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[EdgeRecord]]:
            return await graph.edges_by_node_ids(uow=uow, actor=actor, node_ids=ids)

        async def stream_pages(
            uow: UnitOfWork, keys: Sequence[StreamPageKey]
        ) -> Mapping[StreamPageKey, tuple[list[CaptureRecord], bool]]:
            return await captures.pages_per_stream(uow=uow, actor=actor, crypto=crypto, keys=keys)

        async def stream_insight_pages(
            uow: UnitOfWork, keys: Sequence[StreamInsightsKey]
        ) -> Mapping[StreamInsightsKey, tuple[list[InsightRecord], bool]]:
            return await insights.pages_of_stream_insights(
                uow=uow, actor=actor, crypto=crypto, keys=keys
            )

        async def similar_captures(keys: Sequence[SimilarKey]) -> list[list[uuid.UUID]]:
            # Not a MappingLoader: the batch holds the reader only for its SQL,
            # not while texts are embedded and the vector index is searched.
            found = await search.similar_captures_many(
                reader=reader.use, actor=actor, embedder=embedder, vectors=vectors, keys=keys
            )
            return [found[key] for key in keys]

        self.similar_captures: DataLoader[SimilarKey, list[uuid.UUID]] = DataLoader(
            similar_captures
        )
        self.user: MappingLoader[uuid.UUID, User] = MappingLoader(reader, _users)
        self.stream_insights: MappingLoader[StreamInsightsKey, tuple[list[InsightRecord], bool]] = (
            MappingLoader(reader, stream_insight_pages)
        )
        self.stream_captures: MappingLoader[StreamPageKey, tuple[list[CaptureRecord], bool]] = (
            MappingLoader(reader, stream_pages)
        )
        self.insight: MappingLoader[uuid.UUID, InsightRecord] = MappingLoader(reader, insights_)
        self.capture_insights: MappingLoader[uuid.UUID, list[InsightRecord]] = MappingLoader(
            reader, capture_insights
        )
        self.concept: MappingLoader[uuid.UUID, ConceptRecord] = MappingLoader(reader, concepts_)
        self.capture_concepts: MappingLoader[uuid.UUID, list[tuple[ConceptRecord, float]]] = (
            MappingLoader(reader, capture_concepts)
        )
        self.node_edges: MappingLoader[uuid.UUID, list[EdgeRecord]] = MappingLoader(
            reader, node_edges
        )
        self.stream: MappingLoader[uuid.UUID, Stream] = MappingLoader(reader, streams_)
        self.stream_role: MappingLoader[uuid.UUID, Role] = MappingLoader(reader, roles)
        self.capture: MappingLoader[uuid.UUID, CaptureRecord] = MappingLoader(reader, captures_)
        self.sharing = SharingLoaders(reader, actor)
        self.own = OwnLoader(reader)


class SharingLoaders:
    """Grants and personas; each batch applies the owner-only rules of the sharing domain."""

    def __init__(self, reader: RequestReader, actor: Actor) -> None:
        async def stream_grants(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[GrantRecord]]:
            return await grants.grants_by_stream_ids(uow=uow, actor=actor, stream_ids=ids)

        async def personas_(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, PersonaRecord]:
            return await personas.personas_by_ids(uow=uow, actor=actor, ids=ids)

        async def persona_streams(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[uuid.UUID]]:
            return await personas.stream_ids_by_persona_ids(uow=uow, actor=actor, persona_ids=ids)

        async def persona_shares(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[PersonaShareRecord]]:
            return await personas.shares_by_persona_ids(uow=uow, actor=actor, persona_ids=ids)

        async def stream_personas(
            uow: UnitOfWork, ids: Sequence[uuid.UUID]
        ) -> Mapping[uuid.UUID, list[PersonaRecord]]:
            return await personas.personas_by_stream_ids(uow=uow, actor=actor, stream_ids=ids)

        self.stream_grants: MappingLoader[uuid.UUID, list[GrantRecord]] = MappingLoader(
            reader, stream_grants
        )
        self.persona: MappingLoader[uuid.UUID, PersonaRecord] = MappingLoader(reader, personas_)
        self.persona_streams: MappingLoader[uuid.UUID, list[uuid.UUID]] = MappingLoader(
            reader, persona_streams
        )
        self.persona_shares: MappingLoader[uuid.UUID, list[PersonaShareRecord]] = MappingLoader(
            reader, persona_shares
        )
        self.stream_personas: MappingLoader[uuid.UUID, list[PersonaRecord]] = MappingLoader(
            reader, stream_personas
        )
