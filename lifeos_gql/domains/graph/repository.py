"""All SQL of the graph domain: concepts, edges, events."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.graph.models import NewEdge

_CONCEPT_COLUMNS = (
    "c.id, c.owner_id, c.kind, c.name, c.normalized_name, c.aliases, c.normalized_aliases,"
    " c.merged_into, c.created_at"
)
_EDGE_COLUMNS = (
    "e.id, e.owner_id, e.from_type, e.from_id, e.to_type, e.to_id, e.relation, e.weight,"
    " e.evidence, e.producer, e.valid_from, e.valid_to, e.recorded_at, e.superseded_at"
)
# The conflict target of the partial unique index edges_current_ai_key.
_CURRENT_AI = "(owner_id, from_id, to_id, relation) WHERE superseded_at IS NULL AND producer = 'AI'"


async def lock_owner_graph(uow: UnitOfWork, owner_id: uuid.UUID) -> None:
    """Serialise the owner's graph edits (link, unlink, merge) until commit.

    Analyses don't take it: they lock the concept names and nodes they
    touch (:func:`lock_graph_keys`); co-occurrence counts are atomic upserts.
    """
    await uow.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 23))"),
        {"key": f"graph:{owner_id}"},
    )


def _lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for ``key``."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)


async def lock_graph_keys(
    uow: UnitOfWork, owner_id: uuid.UUID, keys: Iterable[str], *, shared: bool = False
) -> None:
    """Transaction-scoped advisory locks on the owner's graph ``keys``, taken in sorted order.

    Analyses of one owner lock only what they may create or change (concept
    names and match keys, then the concept nodes they found), so analyses
    of unrelated captures run side by side; the sorted order, the same in
    every transaction, means two of them never wait on each other in a cycle.
    ``shared`` locks (an analysis writing edges to nodes) only exclude the
    exclusive ones (resolving names, merging those nodes).
    """
    ids = sorted({_lock_id(f"graph:{owner_id}:{key}") for key in keys})
    if ids:
        lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await uow.execute(
            text(f"SELECT count({lock}(h)) FROM unnest(CAST(:ids AS bigint[])) h"),
            {"ids": ids},
        )


async def live_concept_ids(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` are still concept nodes of their own (not merged away)."""
    if not ids:
        return set()
    rows = await uow.execute(
        text("SELECT id FROM concepts WHERE id = ANY(:ids) AND merged_into IS NULL"),
        {"ids": list(ids)},
    )
    return {r[0] for r in rows}


async def concept_candidates(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    kinds: Sequence[str],
    keys: Sequence[str],
    match_keys: Sequence[str],
) -> list[Any]:
    """Live concepts whose name, an alias or the near-duplicate key may match."""
    rows = await uow.execute(
        text(
            f"""
            SELECT {_CONCEPT_COLUMNS}, c.match_key FROM concepts c
            WHERE c.owner_id = :owner AND c.kind = ANY(:kinds) AND c.merged_into IS NULL
              AND (c.normalized_name = ANY(:keys) OR c.normalized_aliases && CAST(:keys AS text[])
                   OR c.match_key = ANY(:match_keys))
            """
        ),
        {
            "owner": owner_id,
            "kinds": list(kinds),
            "keys": list(keys),
            "match_keys": list(match_keys),
        },
    )
    return list(rows)


async def insert_concept(
    uow: UnitOfWork,
    *,
    owner_id: uuid.UUID,
    kind: str,
    name: str,
    key: str,
    aliases: Sequence[str],
    normalized_aliases: Sequence[str],
    match_key: str | None,
) -> tuple[uuid.UUID, bool]:
    """Insert a concept; (id, created). A merged node with the key resolves to its target."""
    row = (
        await uow.execute(
            text(
                """
                INSERT INTO concepts (owner_id, kind, name, normalized_name, aliases,
                                      normalized_aliases, match_key)
                VALUES (:owner, :kind, :name, :key, :aliases, :norm_aliases, :match_key)
                ON CONFLICT (owner_id, kind, normalized_name)
                DO UPDATE SET normalized_name = EXCLUDED.normalized_name
                RETURNING COALESCE(merged_into, id), (xmax = 0)
                """
            ),
            {
                "owner": owner_id,
                "kind": kind,
                "name": name,
                "key": key,
                "aliases": list(aliases),
                "norm_aliases": list(normalized_aliases),
                "match_key": match_key,
            },
        )
    ).one()
    return row[0], bool(row[1])


async def update_concept_names(
    uow: UnitOfWork,
    concept_id: uuid.UUID,
    *,
    name: str,
    key: str,
    aliases: Sequence[str],
    normalized_aliases: Sequence[str],
    match_key: str | None,
) -> None:
    await uow.execute(
        text(
            """
            UPDATE concepts SET name = :name, normalized_name = :key, aliases = :aliases,
                   normalized_aliases = :norm_aliases, match_key = :match_key
            WHERE id = :id
            """
        ),
        {
            "id": concept_id,
            "name": name,
            "key": key,
            "aliases": list(aliases),
            "norm_aliases": list(normalized_aliases),
            "match_key": match_key,
        },
    )


async def current_captures_edges(
    uow: UnitOfWork, owner_id: uuid.UUID, capture_ids: Sequence[uuid.UUID]
) -> list[Any]:
    """The AI edges these captures' analyses own, each with its ``capture_id``: their
    MENTIONS and RELATED_TO, and the DERIVED_FROM edges of their insights."""
    if not capture_ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT {_EDGE_COLUMNS},
                   CASE WHEN e.relation = 'DERIVED_FROM' THEN e.to_id ELSE e.from_id END
                       AS capture_id
            FROM edges e
            WHERE e.owner_id = :owner AND e.producer = 'AI' AND e.superseded_at IS NULL
              AND ((e.from_id = ANY(:captures) AND e.relation IN ('MENTIONS', 'RELATED_TO'))
                   OR (e.to_id = ANY(:captures) AND e.relation = 'DERIVED_FROM'))
            """
        ),
        {"owner": owner_id, "captures": list(capture_ids)},
    )
    return list(rows)


async def supersede_edges(uow: UnitOfWork, ids: Sequence[uuid.UUID], at: datetime) -> None:
    if ids:
        await uow.execute(
            text("UPDATE edges SET superseded_at = :at WHERE id = ANY(:ids)"),
            {"at": at, "ids": list(ids)},
        )


async def insert_edges(
    uow: UnitOfWork, owner_id: uuid.UUID, edges: Sequence[NewEdge], at: datetime
) -> int:
    """Insert AI edges in one statement; an equal current edge is left as is."""
    if not edges:
        return 0
    result = await uow.execute(
        text(
            f"""
            INSERT INTO edges (owner_id, from_type, from_id, to_type, to_id, relation, weight,
                               evidence, producer, recorded_at)
            SELECT :owner, f_type, f_id, t_type, t_id, rel, w, CAST(ev AS jsonb), 'AI', :at
            FROM unnest(CAST(:f_type AS text[]), CAST(:f_id AS uuid[]), CAST(:t_type AS text[]),
                        CAST(:t_id AS uuid[]), CAST(:rel AS text[]), CAST(:w AS real[]),
                        CAST(:ev AS text[])) AS n(f_type, f_id, t_type, t_id, rel, w, ev)
            ON CONFLICT {_CURRENT_AI} DO NOTHING
            """
        ),
        {
            "owner": owner_id,
            "at": at,
            "f_type": [e.from_type.value for e in edges],
            "f_id": [e.from_id for e in edges],
            "t_type": [e.to_type.value for e in edges],
            "t_id": [e.to_id for e in edges],
            "rel": [e.relation.value for e in edges],
            "w": [e.weight for e in edges],
            "ev": [orjson.dumps(e.evidence).decode() for e in edges],
        },
    )
    return int(result.rowcount)


async def add_co_occurrences(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    deltas: Mapping[tuple[uuid.UUID, uuid.UUID], int],
    at: datetime,
) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], list[tuple[uuid.UUID, uuid.UUID]]]:
    """Add each delta to the CO_OCCURS count of its concept pair (smaller id first).

    Returns (pairs whose edge was created, pairs whose edge ended at 0).

    One statement over the pairs in sorted order, increments and decrements
    alike: concurrent analyses lock the count rows they share in the same
    order, so they queue instead of deadlocking. A decrement only touches a
    current edge.
    """
    if not deltas:
        return [], []
    ordered = sorted(deltas)
    rows = list(
        await uow.execute(
            text(
                f"""
                WITH p AS (
                    SELECT a, b, d, n
                    FROM unnest(CAST(:a AS uuid[]), CAST(:b AS uuid[]), CAST(:d AS int[]))
                         WITH ORDINALITY AS p(a, b, d, n)
                    WHERE d > 0 OR EXISTS (
                        SELECT 1 FROM edges c
                        WHERE c.owner_id = :owner AND c.from_id = p.a AND c.to_id = p.b
                          AND c.relation = 'CO_OCCURS' AND c.producer = 'AI'
                          AND c.superseded_at IS NULL)
                )
                INSERT INTO edges AS e (owner_id, from_type, from_id, to_type, to_id, relation,
                                        weight, evidence, producer, recorded_at)
                SELECT :owner, 'concept', a, 'concept', b, 'CO_OCCURS', d,
                       jsonb_build_object('count', d), 'AI', :at
                FROM p ORDER BY n
                ON CONFLICT {_CURRENT_AI}
                DO UPDATE SET weight = e.weight + EXCLUDED.weight,
                              evidence = jsonb_build_object(
                                  'count', (e.weight + EXCLUDED.weight)::int)
                RETURNING e.id, e.from_id, e.to_id, e.weight, (xmax = 0) AS created
                """
            ),
            {
                "owner": owner_id,
                "a": [p[0] for p in ordered],
                "b": [p[1] for p in ordered],
                "d": [deltas[p] for p in ordered],
                "at": at,
            },
        )
    )
    # A count at 0 ends its edge. This transaction holds these rows' locks
    # already, so ending them waits on nobody.
    ended = [r for r in rows if r.weight <= 0]
    await supersede_edges(uow, [r.id for r in ended], at)
    made = [(r.from_id, r.to_id) for r in rows if r.created and r.weight > 0]
    return made, [(r.from_id, r.to_id) for r in ended if not r.created]


async def rare_concept_neighbours(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    mentions: Sequence[tuple[uuid.UUID, uuid.UUID]],
    max_captures: int,
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]:
    """(capture, earlier capture, shared concept, captures mentioning it) for each
    (capture, concept) of ``mentions`` whose concept is rare.

    A concept is rare when at most ``max_captures`` captures (the capture
    included) currently mention it. Only earlier captures (occurred_at, id)
    are returned, so a link between two captures is made once, by the later one.
    """
    if not mentions:
        return []
    rows = await uow.execute(
        text(
            """
            WITH q AS (
                SELECT DISTINCT capture_id, concept_id
                FROM unnest(CAST(:captures AS uuid[]), CAST(:concepts AS uuid[]))
                     AS q(capture_id, concept_id)
            ), df AS MATERIALIZED (
                -- Counting stops at max_n per concept: a common concept's
                -- thousands of mentions are never scanned to learn it is common.
                -- Materialised: counted once per (capture, concept), not once
                -- per mention row the join below would otherwise feed it.
                SELECT q.capture_id, q.concept_id, m.n
                FROM q CROSS JOIN LATERAL (
                    SELECT count(*) AS n FROM (
                        SELECT 1 FROM edges e
                        WHERE e.to_id = q.concept_id AND e.relation = 'MENTIONS'
                          AND e.producer = 'AI' AND e.superseded_at IS NULL
                          AND e.owner_id = :owner AND e.from_id <> q.capture_id
                        LIMIT :max_n
                    ) AS capped
                ) AS m
                WHERE m.n < :max_n
            )
            SELECT df.capture_id, e.from_id, df.concept_id, df.n + 1 FROM df
            JOIN captures me ON me.id = df.capture_id
            -- Fewer than max_n rows each; the LIMIT keeps the planner from
            -- joining every mention of the owner instead (it would, on stale stats).
            CROSS JOIN LATERAL (
                SELECT e.from_id FROM edges e
                WHERE e.to_id = df.concept_id AND e.relation = 'MENTIONS'
                  AND e.producer = 'AI' AND e.superseded_at IS NULL
                  AND e.owner_id = :owner AND e.from_id <> df.capture_id
                LIMIT :max_n
            ) AS e
            JOIN captures c ON c.id = e.from_id
            WHERE (c.occurred_at, c.id) < (me.occurred_at, me.id)
            """
        ),
        {
            "owner": owner_id,
            "captures": [m[0] for m in mentions],
            "concepts": [m[1] for m in mentions],
            "max_n": max_captures,
        },
    )
    return [(r[0], r[1], r[2], int(r[3])) for r in rows]


async def owned_captures(
    uow: UnitOfWork, owner_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await uow.execute(
        text("SELECT id FROM captures WHERE owner_id = :owner AND id = ANY(:ids)"),
        {"owner": owner_id, "ids": list(set(ids))},
    )
    return {r[0] for r in rows}


# One lock for every transaction that appends events, held until commit:
# ids are then handed out in commit order, so a reader that has seen id N
# has seen every committed id below N (no gap for live readers or resumes).
_EVENTS_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('lifeos:events', 23))")


async def append_events(uow: UnitOfWork, events: Sequence[dict[str, Any]]) -> None:
    """Append event rows (owner_id, stream_ids, kind, node_type, node_id, payload).

    Call it as late as possible in the transaction (the events lock is held
    until commit); the unit of work publishes the new ids after commit.
    """
    if not events:
        return
    await uow.execute(_EVENTS_LOCK)
    rows = await uow.execute(
        text(
            """
            INSERT INTO events (owner_id, stream_ids, kind, node_type, node_id, payload)
            SELECT o, CAST(s AS uuid[]), k, t, i, CAST(p AS jsonb)
            FROM unnest(CAST(:owner AS uuid[]), CAST(:streams AS text[]), CAST(:kind AS text[]),
                        CAST(:type AS text[]), CAST(:node AS uuid[]), CAST(:payload AS text[]))
                 WITH ORDINALITY AS r(o, s, k, t, i, p, n)
            ORDER BY r.n
            RETURNING id
            """
        ),
        {
            "owner": [e["owner_id"] for e in events],
            "streams": ["{" + ",".join(str(s) for s in e["stream_ids"]) + "}" for e in events],
            "kind": [e["kind"] for e in events],
            "type": [e["node_type"] for e in events],
            "node": [e["node_id"] for e in events],
            "payload": [orjson.dumps(e["payload"]).decode() for e in events],
        },
    )
    uow.note_events(max(int(r[0]) for r in rows))


_EVENT_COLUMNS = "id, owner_id, stream_ids, kind, node_type, node_id, payload, created_at"


async def max_event_id(uow: UnitOfWork) -> int:
    row = (await uow.execute(text("SELECT coalesce(max(id), 0) FROM events"))).first()
    return int(row[0]) if row else 0


async def events_after(uow: UnitOfWork, after_id: int, limit: int) -> list[Any]:
    """Every owner's events with id > ``after_id``, oldest first (the live listener)."""
    rows = await uow.execute(
        text(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id > :after ORDER BY id LIMIT :limit"),
        {"after": after_id, "limit": limit},
    )
    return list(rows)


async def owners_events_between(
    uow: UnitOfWork,
    owner_ids: Sequence[uuid.UUID],
    after_id: int,
    upto_id: int,
    kinds: Sequence[str],
    limit: int,
) -> list[Any]:
    """These owners' events of ``kinds`` with ``after_id < id <= upto_id``, oldest first."""
    if not owner_ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT {_EVENT_COLUMNS} FROM events
            WHERE owner_id = ANY(:owners) AND id > :after AND id <= :upto AND kind = ANY(:kinds)
            ORDER BY id LIMIT :limit
            """
        ),
        {
            "owners": list(owner_ids),
            "after": after_id,
            "upto": upto_id,
            "kinds": list(kinds),
            "limit": limit,
        },
    )
    return list(rows)


# ---- readers for loaders -------------------------------------------------


async def concepts_get_many(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> list[Any]:
    if not ids:
        return []
    rows = await uow.execute(
        text(f"SELECT {_CONCEPT_COLUMNS} FROM concepts c WHERE c.id = ANY(:ids)"),
        {"ids": list(ids)},
    )
    return list(rows)


async def concepts_of_captures(uow: UnitOfWork, capture_ids: Sequence[uuid.UUID]) -> list[Any]:
    """(capture_id, salience, concept columns...) of current MENTIONS edges."""
    if not capture_ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT e.from_id AS capture_id, e.weight AS salience, {_CONCEPT_COLUMNS}
            FROM edges e JOIN concepts c ON c.id = e.to_id
            WHERE e.from_id = ANY(:ids) AND e.relation = 'MENTIONS' AND e.superseded_at IS NULL
            ORDER BY e.from_id, e.weight DESC, c.name
            """
        ),
        {"ids": list(capture_ids)},
    )
    return list(rows)


async def edges_touching(
    uow: UnitOfWork, node_ids: Sequence[uuid.UUID], relation: str | None
) -> list[Any]:
    """Current edges with either end in ``node_ids`` (optionally one relation)."""
    if not node_ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT {_EDGE_COLUMNS} FROM edges e
            WHERE e.superseded_at IS NULL
              AND (e.from_id = ANY(:ids) OR e.to_id = ANY(:ids))
              AND (CAST(:rel AS text) IS NULL OR e.relation = CAST(:rel AS text))
            ORDER BY e.weight DESC, e.id
            """
        ),
        {"ids": list(node_ids), "rel": relation},
    )
    return list(rows)
