"""All SQL of search: candidate lists per signal, and visibility checks.

Search is a read model over other domains' tables. Visibility is written
into every statement, from the sharing rules: a capture through a readable
stream; an insight when every capture of its lineage is in a readable
stream; a concept through a current mention by a readable capture. Stream
and time filters narrow the same subqueries (an insight or concept is "in"
a stream or period through its source captures).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.search_index import SEARCH_CONFIG

_READABLE_STREAMS = text(
    """
    SELECT s.id, s.owner_id FROM streams s WHERE s.owner_id = :user
    UNION
    SELECT s.id, s.owner_id FROM grants g JOIN streams s ON s.id = g.stream_id
    WHERE g.grantee_id = :user
    """
)


async def readable_streams(uow: UnitOfWork, user_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Every stream the user may read, mapped to its owner."""
    rows = await uow.execute(_READABLE_STREAMS, {"user": user_id})
    return {row[0]: row[1] for row in rows}


@dataclass(frozen=True, slots=True)
class Scope:
    """Who reads and what they asked for, as statement parameters."""

    readable: Sequence[uuid.UUID]  # every readable stream (the insight lineage rule)
    streams: Sequence[uuid.UUID]  # readable and within the filter
    owners: Sequence[uuid.UUID]
    since: datetime | None
    until: datetime | None
    insight_kinds: Sequence[str] | None

    def params(self) -> dict[str, Any]:
        return {
            "readable": list(self.readable),
            "streams": list(self.streams),
            "owners": list(self.owners),
            "since": self.since,
            "until": self.until,
            "kinds": list(self.insight_kinds) if self.insight_kinds is not None else None,
        }


def _in_time(alias: str) -> str:
    return (
        f"(CAST(:since AS timestamptz) IS NULL OR {alias}.occurred_at >= CAST(:since AS timestamptz))"
        f" AND (CAST(:until AS timestamptz) IS NULL"
        f" OR {alias}.occurred_at < CAST(:until AS timestamptz))"
    )


_CAPTURE_VISIBLE = f"c.stream_id = ANY(CAST(:streams AS uuid[])) AND {_in_time('c')}"
_INSIGHT_VISIBLE = f"""
    i.superseded_at IS NULL AND i.owner_id = ANY(CAST(:owners AS uuid[]))
    AND (CAST(:kinds AS text[]) IS NULL OR i.kind = ANY(CAST(:kinds AS text[])))
    AND EXISTS (SELECT 1 FROM insight_sources s JOIN captures c ON c.id = s.capture_id
                WHERE s.insight_id = i.id AND {_CAPTURE_VISIBLE})
    AND NOT EXISTS (SELECT 1 FROM insight_sources s JOIN captures c ON c.id = s.capture_id
                    WHERE s.insight_id = i.id
                      AND NOT (c.stream_id = ANY(CAST(:readable AS uuid[]))))
"""
_CONCEPT_VISIBLE = f"""
    k.merged_into IS NULL AND k.owner_id = ANY(CAST(:owners AS uuid[]))
    AND EXISTS (SELECT 1 FROM edges e JOIN captures c ON c.id = e.from_id
                WHERE e.to_id = k.id AND e.relation = 'MENTIONS' AND e.superseded_at IS NULL
                  AND {_CAPTURE_VISIBLE})
"""

_QUERY = f"websearch_to_tsquery('{SEARCH_CONFIG}', :q)"

# The index lookups (GIN full text, trigrams) go through the lifeos_*_matching
# functions of migration 0012: under row-level security Postgres may not use
# those indexes for a non-leakproof operator such as ``@@``, so the functions
# make the lookup with the SELECT policy's own rule and the rows are joined
# back here, under RLS, by primary key.
# Captures: lifeos_captures_ranked (migration 0014) also applies this
# statement's stream and time filter and ranks inside the lookup, returning
# the best :limit only; joining thousands of matches back one by one to rank
# them here was most of a search's time for a common word.
_CAPTURES_BY_TEXT = text(
    f"""
    SELECT c.id FROM {_QUERY} AS q
    CROSS JOIN LATERAL lifeos_captures_ranked(
        q, CAST(:streams AS uuid[]), CAST(:since AS timestamptz), CAST(:until AS timestamptz),
        :limit) AS m(id, rank)
    JOIN captures c ON c.id = m.id
    WHERE {_CAPTURE_VISIBLE}
    ORDER BY m.rank DESC, c.id
    LIMIT :limit
    """
)
_INSIGHTS_BY_TEXT = text(
    f"""
    SELECT i.id FROM {_QUERY} AS q
    CROSS JOIN LATERAL lifeos_insights_matching(q) AS m(id)
    JOIN insights i ON i.id = m.id
    WHERE {_INSIGHT_VISIBLE}
    ORDER BY ts_rank_cd(i.search, q, 32) DESC, i.id
    LIMIT :limit
    """
)
# word_similarity(query, name) finds a name the query is part of ("smith" in
# "jane smith"); similarity() a whole name typed with typos ("jane smtih").
_CONCEPTS_BY_NAME = text(
    f"""
    SELECT k.id FROM concepts k
    -- One arm per operator inside lifeos_concepts_named: OR-ing them made
    -- Postgres scan every concept (about 100 ms at 10,000 concepts); each arm
    -- alone uses the trigram index. The ids as an array, not ``IN (SELECT
    -- ...)``: the planner cannot size a set-returning function's output and
    -- hash-joined it against a scan of every concept (2 ms at 10,000); an
    -- array is looked up by primary key.
    WHERE k.id = ANY(ARRAY(SELECT lifeos_concepts_named(CAST(:name AS text))))
      AND {_CONCEPT_VISIBLE}
    ORDER BY greatest(similarity(k.normalized_name, :name),
                      word_similarity(:name, k.normalized_name)) DESC, k.id
    LIMIT :limit
    """
)


async def captures_by_text(uow: UnitOfWork, scope: Scope, query: str, limit: int) -> list[Any]:
    """Visible captures matching the full-text query, best ``ts_rank_cd`` first."""
    if not scope.streams:
        return []
    rows = await uow.execute(_CAPTURES_BY_TEXT, {**scope.params(), "q": query, "limit": limit})
    return [row[0] for row in rows]


async def insights_by_text(uow: UnitOfWork, scope: Scope, query: str, limit: int) -> list[Any]:
    """Visible current insights matching the full-text query, best first."""
    if not scope.streams:
        return []
    rows = await uow.execute(_INSIGHTS_BY_TEXT, {**scope.params(), "q": query, "limit": limit})
    return [row[0] for row in rows]


async def concepts_by_name(uow: UnitOfWork, scope: Scope, name: str, limit: int) -> list[Any]:
    """Visible concepts whose normalised name is close to ``name`` (trigrams), best first."""
    if not scope.streams or not name:
        return []
    rows = await uow.execute(_CONCEPTS_BY_NAME, {**scope.params(), "name": name, "limit": limit})
    return [row[0] for row in rows]


_VISIBLE_AMONG = text(
    f"""
    SELECT 'capture' AS node_type, c.id FROM captures c
    WHERE c.id = ANY(CAST(:captures AS uuid[])) AND {_CAPTURE_VISIBLE}
    UNION ALL
    SELECT 'insight', i.id FROM insights i
    WHERE i.id = ANY(CAST(:insights AS uuid[])) AND {_INSIGHT_VISIBLE}
    UNION ALL
    SELECT 'concept', k.id FROM concepts k
    WHERE k.id = ANY(CAST(:concepts AS uuid[])) AND {_CONCEPT_VISIBLE}
    """
)


async def visible_among(
    uow: UnitOfWork,
    scope: Scope,
    *,
    captures: Sequence[uuid.UUID] = (),
    insights: Sequence[uuid.UUID] = (),
    concepts: Sequence[uuid.UUID] = (),
) -> set[tuple[str, uuid.UUID]]:
    """The (node type, id) pairs among these that the scope may see and that match it.

    Vector-index hits are candidates only (the index is no permission wall):
    every one passes through here before it is ranked.
    """
    if not scope.streams or not (captures or insights or concepts):
        return set()
    params = {
        **scope.params(),
        "captures": list(captures),
        "insights": list(insights),
        "concepts": list(concepts),
    }
    return {(row[0], row[1]) for row in await uow.execute(_VISIBLE_AMONG, params)}
