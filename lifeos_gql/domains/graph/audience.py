"""Which streams decide whether a node is visible, read once for any number of readers.

The rule is the sharing policy's (``policy.sees_node``; the SQL of
``traversal_repository.visible_nodes`` says the same for one reader): a capture through its stream, a
concept through any current mention from a readable capture, an insight
only when every capture of its lineage is readable. Live events ask it for
hundreds of subscribers at once, so the node side is read once here and
each reader's readable streams are compared in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Set
from dataclasses import dataclass

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.graph.models import NodeType
from lifeos_gql.domains.sharing import policy


@dataclass(frozen=True, slots=True)
class NodeReach:
    """The streams a node's visibility depends on, and whether all of them are needed."""

    streams: frozenset[uuid.UUID]
    needs_all: bool

    def readable_with(self, readable: Set[uuid.UUID]) -> bool:
        return policy.sees_node(self.streams, readable, every=self.needs_all)


UNREACHABLE = NodeReach(frozenset(), needs_all=True)

_CAPTURE = text("SELECT stream_id FROM captures WHERE id = :id")
# A lineage capture that no longer exists makes the insight unreadable (its
# stream is NULL here), exactly as the insights domain's check does.
_INSIGHT = text(
    """
    SELECT c.stream_id FROM insight_sources s LEFT JOIN captures c ON c.id = s.capture_id
    WHERE s.insight_id = :id
    """
)
_CONCEPT = text(
    """
    SELECT DISTINCT c.stream_id FROM edges e JOIN captures c ON c.id = e.from_id
    WHERE e.to_id = :id AND e.relation = 'MENTIONS' AND e.superseded_at IS NULL
    """
)


async def node_reach(uow: UnitOfWork, node_type: str, node_id: uuid.UUID) -> NodeReach:
    """The node's deciding streams (read on a connection that sees every row)."""
    if node_type == NodeType.CAPTURE.value:
        rows = list(await uow.execute(_CAPTURE, {"id": node_id}))
        return NodeReach(frozenset(r[0] for r in rows), needs_all=True)
    if node_type == NodeType.INSIGHT.value:
        rows = list(await uow.execute(_INSIGHT, {"id": node_id}))
        if any(r[0] is None for r in rows):
            return UNREACHABLE
        return NodeReach(frozenset(r[0] for r in rows), needs_all=True)
    if node_type == NodeType.CONCEPT.value:
        rows = list(await uow.execute(_CONCEPT, {"id": node_id}))
        return NodeReach(frozenset(r[0] for r in rows), needs_all=False)
    return UNREACHABLE
