"""What a share link shows: its node as the link's creator can see it right now.

Everything goes through the owning domains' batch getters with an actor for
the creator, so a link follows the same visibility rules as GraphQL: a
capture whose stream the creator lost is gone, an insight needs its whole
lineage readable, a concept lists only the mentions the creator can read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.graph.models import Relation
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.share_links.models import (
    SharedCapture,
    SharedConcept,
    SharedInsight,
    SharedNode,
    SharedNodeType,
)
from lifeos_gql.domains.streams import service as streams

# A link page stays small: the strongest mentions, and excerpts of related captures.
MAX_MENTIONS = 20
EXCERPT_CHARS = 1_000


def reader_for(owner_id: uuid.UUID) -> Actor:
    """The creator, read-only: what a link may see is what they may read."""
    return Actor(user_id=owner_id, scopes=frozenset({Scope.READ}), via="share-link")


async def _shared_captures(
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    ids: Sequence[uuid.UUID],
    *,
    excerpt: bool,
) -> list[SharedCapture]:
    found = await captures.captures_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)
    records = [found[i] for i in ids if i in found]
    names = await _stream_names(uow, actor, records)
    shown = []
    for record in records:
        content = record.content
        truncated = excerpt and content is not None and len(content) > EXCERPT_CHARS
        if truncated and content is not None:
            content = content[:EXCERPT_CHARS]
        shown.append(
            SharedCapture(
                title=record.title,
                content=content,
                truncated=truncated,
                occurred_at=record.occurred_at,
                stream_name=names.get(record.stream_id),
            )
        )
    return shown


async def _stream_names(
    uow: UnitOfWork, actor: Actor, records: Sequence[CaptureRecord]
) -> dict[uuid.UUID, str]:
    found = await streams.streams_by_ids(
        uow=uow, actor=actor, ids=list({r.stream_id for r in records})
    )
    return {stream_id: stream.name for stream_id, stream in found.items()}


async def _insight(
    uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, insight_id: uuid.UUID
) -> SharedInsight | None:
    found = await insights.insights_by_ids(uow=uow, actor=actor, crypto=crypto, ids=[insight_id])
    record = found.get(insight_id)
    if record is None:
        return None
    sources = await _shared_captures(uow, actor, crypto, record.capture_ids, excerpt=True)
    return SharedInsight(
        kind=record.kind,
        text=record.text,
        producer=record.producer,
        generated_at=record.generated_at,
        sources=tuple(sources),
    )


async def _concept(
    uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, concept_id: uuid.UUID
) -> SharedConcept | None:
    record = (await graph.concepts_by_ids(uow=uow, actor=actor, ids=[concept_id])).get(concept_id)
    if record is None:
        return None
    edges = await graph.edges_by_node_ids(
        uow=uow, actor=actor, node_ids=[concept_id], relation=Relation.MENTIONS.value
    )
    mentioning = [e.from_id for e in edges.get(concept_id, []) if e.to_id == concept_id]
    mentions = await _shared_captures(
        uow, actor, crypto, list(dict.fromkeys(mentioning))[:MAX_MENTIONS], excerpt=True
    )
    return SharedConcept(name=record.name, kind=record.kind, mentions=tuple(mentions))


async def shared_node(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    node_type: SharedNodeType,
    node_id: uuid.UUID,
) -> SharedNode | None:
    """The node and its visible lineage as ``actor`` sees it, or None if they can't see it."""
    if node_type is SharedNodeType.CAPTURE:
        shown = await _shared_captures(uow, actor, crypto, [node_id], excerpt=False)
        return shown[0] if shown else None
    if node_type is SharedNodeType.INSIGHT:
        return await _insight(uow, actor, crypto, node_id)
    return await _concept(uow, actor, crypto, node_id)
