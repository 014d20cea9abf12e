"""Graph read fields: ``neighbors``, ``path``, ``nodes``, ``concept``.

The lead merges ``GraphQueries`` into ``Query``. Resolvers call the graph
traversal service on the request's reader; the records it returns prime the
per-request loaders, so nested fields (``Edge.from``/``to``, a node's own
relations) resolve from the same batch instead of asking again.

``neighbors`` loads its nodes' records (and decrypts captures and insights)
only when the query selects more of a node than ``id``/``__typename``: the
traversal statement has already applied the visibility rule to every node,
so an id-only answer needs nothing else (loading and decrypting 200 records
nobody reads was a large part of its time).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from lifeos_gql.api.context import Context
from lifeos_gql.api.node_registry import resolve_node
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.edge import Edge
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.errors import BadInput
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.graph import traversal
from lifeos_gql.domains.graph.models import NodeType
from lifeos_gql.domains.graph.traversal import NodeRef
from lifeos_gql.domains.graph.traversal import Subgraph as SubgraphRecords

_GRAPH_TYPES = {
    "Capture": NodeType.CAPTURE,
    "Insight": NodeType.INSIGHT,
    "Concept": NodeType.CONCEPT,
}
MAX_IDS = 100


@strawberry.enum(description="Which edges a hop follows, relative to the node it leaves.")
class EdgeDirection(Enum):
    OUT = "OUT"
    IN = "IN"
    BOTH = "BOTH"


@strawberry.type(description="Part of the graph: visible nodes and the edges joining them.")
class Subgraph:
    nodes: list[Node] = strawberry.field(description="The start node first, then hop by hop.")
    edges: list[Edge]


def graph_node_ref(global_id: str, field: str) -> NodeRef:
    """A Capture, Insight or Concept id as a graph node; BadInput for any other id."""
    parsed = decode_global_id(global_id)
    node_type = _GRAPH_TYPES.get(parsed.type_name)
    if node_type is None:
        raise BadInput("Expected a Capture, Insight or Concept id", field=field)
    return NodeRef(node_type.value, parsed.id)


def _subgraph(ctx: Context, found: SubgraphRecords) -> Subgraph:
    loaders = ctx.loaders
    nodes: list[Node] = []
    for ref in found.nodes:
        if (capture := found.captures.get(ref.id)) is not None:
            loaders.capture.prime(ref.id, capture)
            nodes.append(Capture.from_record(capture))
        elif (insight := found.insights.get(ref.id)) is not None:
            loaders.insight.prime(ref.id, insight)
            nodes.append(Insight.from_record(insight))
        elif (concept := found.concepts.get(ref.id)) is not None:
            loaders.concept.prime(ref.id, concept)
            nodes.append(Concept.from_record(concept))
    return Subgraph(nodes=nodes, edges=[Edge.from_record(e) for e in found.edges])


class _NodeId:
    """A node answered by its id alone (see the module docstring).

    ``__as_strawberry_type__`` is what ``strawberry.cast`` sets: it tells the
    ``Node`` interface which object type this is, so ``__typename`` is
    right; ``id`` is then a plain attribute like on the full types.
    """

    __slots__ = ("id",)
    type_name = "Node"

    def __init__(self, db_id: uuid.UUID) -> None:
        self.id = encode_global_id(self.type_name, db_id)


class _CaptureId(_NodeId):
    __slots__ = ()
    __as_strawberry_type__ = Capture
    type_name = "Capture"


class _InsightId(_NodeId):
    __slots__ = ()
    __as_strawberry_type__ = Insight
    type_name = "Insight"


class _ConceptId(_NodeId):
    __slots__ = ()
    __as_strawberry_type__ = Concept
    type_name = "Concept"


_ID_ONLY = {
    NodeType.CAPTURE.value: _CaptureId,
    NodeType.INSIGHT.value: _InsightId,
    NodeType.CONCEPT.value: _ConceptId,
}
_ID_FIELDS = frozenset({"id", "__typename"})


def _only_ids(selections: list[Selection]) -> bool:
    """Whether a node selection asks for nothing but ``id``/``__typename``.

    Any directive (``@include``, ``@skip``, custom ones) counts as asking for
    more: the full records are always a correct answer, the shortcut only
    when it is plainly enough.
    """
    for selection in selections:
        if selection.directives:
            return False
        if isinstance(selection, SelectedField):
            if selection.name not in _ID_FIELDS:
                return False
        elif not _only_ids(selection.selections):  # a fragment
            return False
    return True


def _node_selections(selections: list[Selection]) -> list[list[Selection]] | None:
    """The selection sets of every ``nodes`` field of a ``Subgraph`` (through
    fragments); None when a directive makes the shape uncertain."""
    out: list[list[Selection]] = []
    for selection in selections:
        if selection.directives:
            return None
        if isinstance(selection, SelectedField):
            if selection.name == "nodes":
                out.append(selection.selections)
        else:
            inner = _node_selections(selection.selections)
            if inner is None:
                return None
            out += inner
    return out


def _records_needed(info: Info[Context, None]) -> bool:
    """Whether the ``Subgraph`` selection reads any node field beyond its id."""
    for field in info.selected_fields:
        node_sets = _node_selections(field.selections)
        if node_sets is None or not all(_only_ids(s) for s in node_sets):
            return True
    return False


def _id_subgraph(found: SubgraphRecords) -> Subgraph:
    nodes: list[Any] = [_ID_ONLY[ref.type](ref.id) for ref in found.nodes]
    return Subgraph(nodes=nodes, edges=[Edge.from_record(e) for e in found.edges])


@strawberry.type
class GraphQueries:
    @strawberry.field(
        description="The neighbourhood of a node: up to `depth` hops (1-3) and `first` nodes "
        "(1-200), strongest edges first; `asOf` shows the graph as recorded then."
    )
    async def neighbors(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        depth: int = 1,
        relations: list[str] | None = None,
        direction: EdgeDirection = EdgeDirection.BOTH,
        first: int = 50,
        as_of: datetime | None = None,
    ) -> Subgraph:
        ctx = info.context
        start = graph_node_ref(str(id), "id")
        records = _records_needed(info)
        async with ctx.reader.use() as uow:
            found = await traversal.neighbors(
                uow=uow,
                actor=ctx.actor,
                crypto=ctx.runtime.capture_crypto,
                start=start,
                depth=depth,
                relations=relations,
                direction=traversal.Direction(direction.value),
                first=first,
                as_of=as_of,
                records=records,
            )
        return _subgraph(ctx, found) if records else _id_subgraph(found)

    @strawberry.field(
        description="A shortest chain of edges (followed either way) between two nodes, "
        "at most `maxDepth` (1-6) long; null when there is none you can see."
    )
    async def path(
        self,
        info: Info[Context, None],
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        max_depth: int = 4,
        relations: list[str] | None = None,
        as_of: datetime | None = None,
    ) -> list[Edge] | None:
        ctx = info.context
        source, target = graph_node_ref(str(from_), "from"), graph_node_ref(str(to), "to")
        async with ctx.reader.use() as uow:
            edges = await traversal.shortest_path(
                uow=uow,
                actor=ctx.actor,
                source=source,
                target=target,
                max_depth=max_depth,
                relations=relations,
                as_of=as_of,
            )
        return None if edges is None else [Edge.from_record(e) for e in edges]

    @strawberry.field(description="Objects by global id, in order; null where not visible.")
    async def nodes(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_IDS:
            raise BadInput(f"At most {MAX_IDS} ids", field="ids")
        return list(await asyncio.gather(*(resolve_node(info.context, str(i)) for i in ids)))

    @strawberry.field(
        description="The concept with this name or alias (normalised like the analysis does: "
        "case, accents, titles, legal suffixes); yours before shared ones."
    )
    async def concept(self, info: Info[Context, None], name: str) -> Concept | None:
        ctx = info.context
        async with ctx.reader.use() as uow:
            record = await traversal.concept_by_name(uow=uow, actor=ctx.actor, name=name)
        if record is None:
            return None
        ctx.loaders.concept.prime(record.id, record)
        return Concept.from_record(record)
