"""Use cases of search: hybrid search and "similar captures".

Hybrid search runs three signals over what the reader may see and fuses
their rankings with reciprocal rank fusion (k = 60):

* KEYWORD: Postgres full text (``websearch_to_tsquery``, ``ts_rank_cd``)
  over captures and current insights, one ranked list each;
* NAME: trigram similarity (pg_trgm) of concept names, so a misspelt or
  partial name still finds its concept;
* MEANING: the query embedded by the same embedder as the stored vectors,
  nearest nodes from the vector index, per owner whose streams the reader
  can see; every vector hit is re-checked against visibility in SQL. The
  embedding and the vector index (its own connection) run while the
  request's reader runs the two SQL signals.

Each signal contributes its top :data:`CANDIDATES`; the fused ranking over
them is paged with an opaque ``after`` cursor naming (score, node) of the
last hit, so no OFFSET is used and pages do not overlap.

Content is encrypted at rest: snippets cannot be made by ``ts_headline``.
Only the page's hits are decrypted, and highlighted in Python
(:mod:`.snippets`). Statements per search: 1 (readable streams) + 3 (one per
SQL signal) + per owner searched 2 (vector) + 1 (visibility of vector hits)
+ the batch getters of the page's records (concepts: 2, with the readable
streams already known); none depends on ``first``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Final

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import BadInput
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.graph import traversal
from lifeos_gql.domains.graph.normalise import normalise_name
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.search import fusion, repository
from lifeos_gql.domains.search.models import (
    NodeKey,
    RankedKey,
    SearchFilter,
    SearchHit,
    SearchNodeType,
    SearchPage,
    Signal,
)
from lifeos_gql.domains.search.snippets import highlight, query_terms
from lifeos_gql.domains.sharing import policy
from lifeos_gql.infra.embeddings.base import Embedder
from lifeos_gql.infra.vectors.base import VectorIndex, VectorMatch, VectorQuery

#: Candidates each signal contributes to the fused ranking (and the paging horizon).
CANDIDATES: Final = 100
MAX_QUERY_CHARS: Final = 500
#: Cosine floor for MEANING hits of a search: nearest neighbours always exist,
#: but below this (unrelated sentences score about 0.0-0.15 with MiniLM) they are noise.
MIN_MEANING_SCORE: Final = 0.2
#: Owners searched in the vector index per query (one index query each).
MAX_VECTOR_OWNERS: Final = 20


async def _scope(
    uow: UnitOfWork, actor: Actor, filter_: SearchFilter
) -> tuple[repository.Scope, dict[uuid.UUID, uuid.UUID]]:
    user_id = actor.require_user_id()
    readable = {
        stream_id: owner
        for stream_id, owner in (await repository.readable_streams(uow, user_id)).items()
        if policy.credential_reaches(actor.stream_id, stream_id)
    }
    wanted = set(filter_.stream_ids) if filter_.stream_ids is not None else None
    streams = {s: o for s, o in readable.items() if wanted is None or s in wanted}
    scope = repository.Scope(
        readable=sorted(readable),
        streams=sorted(streams),
        owners=sorted(set(streams.values())),
        since=filter_.since,
        until=filter_.until,
        insight_kinds=filter_.insight_kinds,
    )
    return scope, streams


async def _nearest(
    streams: dict[uuid.UUID, uuid.UUID],
    filter_: SearchFilter,
    vector: Sequence[float],
    vectors: VectorIndex,
    *,
    top_k: int,
    exclude: Sequence[str] = (),
    min_score: float = -1.0,
) -> list[NodeKey]:
    """Candidates nearest to ``vector`` across the owners of readable streams, best first.

    Not yet checked against visibility (see :func:`_visible_keys`). The vector
    index works on its own connection, never the request's: this may run
    while the request's reader runs other statements.
    """
    types = [t.value for t in SearchNodeType if filter_.wants(t)]
    by_owner: dict[uuid.UUID, list[str]] = {}
    for stream_id, owner in streams.items():
        by_owner.setdefault(owner, []).append(str(stream_id))
    matches = []
    for owner, owner_streams in sorted(by_owner.items())[:MAX_VECTOR_OWNERS]:
        matches += await vectors.query(
            owner_id=owner,
            vector=vector,
            top_k=top_k,
            node_types=types,
            stream_ids=sorted(owner_streams),
            exclude_ids=exclude,
        )
    matches = [m for m in matches if m.score >= min_score]
    matches.sort(key=lambda m: (-m.score, m.id))
    keys: list[NodeKey] = []
    for match in matches:
        try:
            keys.append(NodeKey(SearchNodeType(match.metadata["node_type"]), uuid.UUID(match.id)))
        except ValueError:  # not a node id of ours
            continue
    return keys


async def _query_nearest(
    embedder: Embedder,
    vectors: VectorIndex,
    query: str,
    streams: dict[uuid.UUID, uuid.UUID],
    filter_: SearchFilter,
) -> list[NodeKey]:
    """MEANING candidates of a search: the query embedded, then :func:`_nearest`."""
    [vector] = await embedder.embed([query])
    return await _nearest(
        streams, filter_, vector, vectors, top_k=CANDIDATES, min_score=MIN_MEANING_SCORE
    )


async def _visible_keys(
    uow: UnitOfWork, scope: repository.Scope, keys: list[NodeKey]
) -> list[NodeKey]:
    """The vector candidates the scope may see, in order (the index is no permission wall)."""
    ids = {t: [k.id for k in keys if k.node_type is t] for t in SearchNodeType}
    visible = await repository.visible_among(
        uow,
        scope,
        captures=ids[SearchNodeType.CAPTURE],
        insights=ids[SearchNodeType.INSIGHT],
        concepts=ids[SearchNodeType.CONCEPT],
    )
    return [k for k in keys if (k.node_type.value, k.id) in visible]


async def search(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    embedder: Embedder | None,
    vectors: VectorIndex | None,
    query: str,
    first: int,
    after: str | None = None,
    filter_: SearchFilter | None = None,
) -> SearchPage:
    """One page of the hybrid ranking of what ``actor`` may see (see the module docstring).

    Hits the reader may not see are never counted, ranked or hinted at.
    Without an embedder or vector index the MEANING signal is skipped.
    """
    filter_ = filter_ or SearchFilter()
    query = " ".join(query.split())
    if not query:
        raise BadInput("query must not be empty", field="query")
    if len(query) > MAX_QUERY_CHARS:
        raise BadInput(f"query is longer than {MAX_QUERY_CHARS} characters", field="query")
    if filter_.since and filter_.until and filter_.since >= filter_.until:
        raise BadInput("`from` must be before `to`", field="filter.from")
    scope, streams = await _scope(uow, actor, filter_)
    if not streams:
        return SearchPage()
    # MEANING's first half (embedding the query, then the vector index on its
    # own connection) needs nothing from the request's reader: it runs while
    # the reader runs the SQL signals, and only its visibility check waits.
    nearest: asyncio.Task[list[NodeKey]] | None = None
    if embedder is not None and vectors is not None:
        nearest = asyncio.create_task(_query_nearest(embedder, vectors, query, streams, filter_))
    try:
        legs = await _sql_legs(uow, scope, filter_, query)
        if nearest is not None:
            legs[Signal.MEANING] = await _visible_keys(uow, scope, await nearest)
    finally:
        if nearest is not None and not nearest.done():
            nearest.cancel()
            await asyncio.gather(nearest, return_exceptions=True)
    ranked, has_next = fusion.page_after(fusion.fuse(legs), after, first)
    hits = await _hits(uow, actor, crypto, scope, ranked, query_terms(query))
    return SearchPage(hits=hits, has_next=has_next)


async def _sql_legs(
    uow: UnitOfWork, scope: repository.Scope, filter_: SearchFilter, query: str
) -> dict[Signal, list[NodeKey]]:
    """KEYWORD (captures and insights, interleaved) and NAME, in SQL on the reader."""
    legs: dict[Signal, list[NodeKey]] = {}
    keyword: list[NodeKey] = []
    if filter_.wants(SearchNodeType.CAPTURE):
        found = await repository.captures_by_text(uow, scope, query, CANDIDATES)
        keyword += [NodeKey(SearchNodeType.CAPTURE, i) for i in found]
    if filter_.wants(SearchNodeType.INSIGHT):
        found = await repository.insights_by_text(uow, scope, query, CANDIDATES)
        # Interleave so one node type's ranks do not push the other's down.
        insight_keys = [NodeKey(SearchNodeType.INSIGHT, i) for i in found]
        keyword = _interleave(keyword, insight_keys)
    legs[Signal.KEYWORD] = keyword
    if filter_.wants(SearchNodeType.CONCEPT):
        name = normalise_name(query, "topic")
        found = await repository.concepts_by_name(uow, scope, name, CANDIDATES)
        legs[Signal.NAME] = [NodeKey(SearchNodeType.CONCEPT, i) for i in found]
    return legs


def _interleave(a: list[NodeKey], b: list[NodeKey]) -> list[NodeKey]:
    out: list[NodeKey] = []
    for index in range(max(len(a), len(b))):
        out += a[index : index + 1] + b[index : index + 1]
    return out


async def _hits(
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    scope: repository.Scope,
    ranked: Sequence[RankedKey],
    terms: list[str],
) -> list[SearchHit]:
    """Decrypt the page's records (through their domains' batch getters) and snippet them."""

    def ids(node_type: SearchNodeType) -> list[uuid.UUID]:
        return [r.key.id for r in ranked if r.key.node_type is node_type]

    capture_ids, insight_ids, concept_ids = (
        ids(SearchNodeType.CAPTURE),
        ids(SearchNodeType.INSIGHT),
        ids(SearchNodeType.CONCEPT),
    )
    found_captures = (
        await captures.captures_by_ids(uow=uow, actor=actor, crypto=crypto, ids=capture_ids)
        if capture_ids
        else {}
    )
    found_insights = (
        await insights.insights_by_ids(uow=uow, actor=actor, crypto=crypto, ids=insight_ids)
        if insight_ids
        else {}
    )
    # The readable streams are the scope's (resolved once per search).
    found_concepts = await traversal.concepts_visible_through(uow, concept_ids, scope.readable)
    hits: list[SearchHit] = []
    for item in ranked:
        key = item.key
        capture = found_captures.get(key.id) if key.node_type is SearchNodeType.CAPTURE else None
        insight = found_insights.get(key.id) if key.node_type is SearchNodeType.INSIGHT else None
        concept = found_concepts.get(key.id) if key.node_type is SearchNodeType.CONCEPT else None
        if capture is not None:
            snippet = highlight(_capture_text(capture), terms)
        elif insight is not None:
            snippet = highlight(insight.text, terms)
        elif concept is not None:
            snippet = highlight(concept.name, terms)
        else:  # gone or hidden since it was ranked: leave it out
            continue
        hits.append(
            SearchHit(
                key=key,
                score=item.score,
                cursor=fusion.encode_cursor(item),
                signals=item.signals,
                snippet=snippet,
                capture=capture,
                insight=insight,
                concept=concept,
            )
        )
    return hits


def _capture_text(record: CaptureRecord) -> str | None:
    parts = [p for p in (record.title, record.content) if p]
    return " — ".join(parts) if parts else None


async def similar_captures(
    *,
    uow: UnitOfWork,
    actor: Actor,
    embedder: Embedder | None,
    vectors: VectorIndex | None,
    capture: CaptureRecord,
    first: int,
) -> list[uuid.UUID]:
    """Ids of the visible captures nearest in meaning to ``capture``, closest first.

    ``capture`` must already be visible to ``actor`` (it comes from a loader).
    The query vector is the capture's text embedded again: the embedder is
    deterministic, so it equals the stored vector, and this works the same on
    every vector index (the interface has no "fetch vector").
    ``Capture.similar`` goes through :func:`similar_captures_many`, which
    answers the same for all the captures of a response at once.
    """
    text_ = _capture_text(capture)
    if embedder is None or vectors is None or not text_ or first == 0:
        return []
    scope, streams = await _scope(uow, actor, SearchFilter(node_types=(SearchNodeType.CAPTURE,)))
    if not streams:
        return []
    [vector] = await embedder.embed([text_])
    candidates = await _nearest(
        streams,
        SearchFilter(node_types=(SearchNodeType.CAPTURE,)),
        vector,
        vectors,
        top_k=first,
        exclude=[str(capture.id)],
    )
    keys = await _visible_keys(uow, scope, candidates)
    return [k.id for k in keys if k.id != capture.id][:first]


@dataclass(frozen=True, slots=True)
class SimilarKey:
    """One ``Capture.similar`` request: a capture and how many neighbours.

    Keys are equal when (capture, first) are; ``text`` (the capture's text,
    already decrypted by the caller's loader) rides along so the batch does
    not load the capture again.
    """

    capture_id: uuid.UUID
    first: int
    text: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, capture: CaptureRecord, first: int) -> SimilarKey:
        return cls(capture.id, first, _capture_text(capture))


async def similar_captures_many(
    *,
    reader: Callable[[], AbstractAsyncContextManager[UnitOfWork]],
    actor: Actor,
    embedder: Embedder | None,
    vectors: VectorIndex | None,
    keys: Sequence[SimilarKey],
) -> dict[SimilarKey, list[uuid.UUID]]:
    """:func:`similar_captures` for many captures at once, with the same answers.

    The work does not grow with the number of keys: one statement for the
    readable streams, one embedder call for every text, one
    :meth:`~VectorIndex.query_many` per owner of readable streams (as one
    search does), and one visibility statement over all candidates.
    ``reader`` (the request's) is held only for the two SQL steps, so other
    loaders can use it while the texts are embedded and the index searched.
    """
    answers: dict[SimilarKey, list[uuid.UUID]] = {key: [] for key in keys}
    wanted = [key for key in answers if key.text and key.first > 0]
    if embedder is None or vectors is None or not wanted:
        return answers
    filter_ = SearchFilter(node_types=(SearchNodeType.CAPTURE,))
    async with reader() as uow:
        scope, streams = await _scope(uow, actor, filter_)
    if not streams:
        return answers
    # One query vector per capture, as wide as its widest key: the two
    # similar() fields of one capture share their index searches.
    texts: dict[uuid.UUID, str] = {key.capture_id: key.text for key in wanted if key.text}
    widest: dict[uuid.UUID, int] = {}
    for key in wanted:
        widest[key.capture_id] = max(widest.get(key.capture_id, 0), key.first)
    order = {capture_id: index for index, capture_id in enumerate(texts)}
    embedded = await embedder.embed(list(texts.values()))
    queries = [
        VectorQuery(vector, widest[capture_id], (str(capture_id),))
        for capture_id, vector in zip(texts, embedded, strict=True)
    ]
    per_owner = await _nearest_per_owner(streams, filter_, queries, vectors)
    # Each key keeps what a search of its own width finds per owner (the
    # nearest ``first`` of the wider answer), so answers equal similar_captures'.
    candidates = {
        key: _ranked_keys(
            [m for found in per_owner for m in found[order[key.capture_id]][: key.first]]
        )
        for key in wanted
    }
    union = list(dict.fromkeys(c for found in candidates.values() for c in found))
    async with reader() as uow:
        visible = set(await _visible_keys(uow, scope, union))
    for key, found in candidates.items():
        answers[key] = [c.id for c in found if c in visible and c.id != key.capture_id][: key.first]
    return answers


async def _nearest_per_owner(
    streams: dict[uuid.UUID, uuid.UUID],
    filter_: SearchFilter,
    queries: Sequence[VectorQuery],
    vectors: VectorIndex,
) -> list[list[list[VectorMatch]]]:
    """:func:`_nearest`'s index searches for several vectors: one ``query_many`` per owner.

    Per owner searched, the matches of each query, closest first.
    """
    types = [t.value for t in SearchNodeType if filter_.wants(t)]
    by_owner: dict[uuid.UUID, list[str]] = {}
    for stream_id, owner in streams.items():
        by_owner.setdefault(owner, []).append(str(stream_id))
    return [
        await vectors.query_many(
            owner_id=owner, queries=queries, node_types=types, stream_ids=sorted(owner_streams)
        )
        for owner, owner_streams in sorted(by_owner.items())[:MAX_VECTOR_OWNERS]
    ]


def _ranked_keys(matches: list[VectorMatch]) -> list[NodeKey]:
    """Matches of every owner as node keys, best first (as :func:`_nearest` orders them)."""
    matches.sort(key=lambda m: (-m.score, m.id))
    keys: list[NodeKey] = []
    for match in matches:
        try:
            keys.append(NodeKey(SearchNodeType(match.metadata["node_type"]), uuid.UUID(match.id)))
        except ValueError:  # not a node id of ours
            continue
    return keys
