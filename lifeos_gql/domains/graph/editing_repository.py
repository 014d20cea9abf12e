"""SQL of user graph edits: links, unlinks and concept merges (history kept)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

_COLS = (
    "id, owner_id, from_type, from_id, to_type, to_id, relation, weight, evidence, producer,"
    " valid_from, valid_to, recorded_at, superseded_at"
)


async def node_owners(
    uow: UnitOfWork, nodes: Sequence[tuple[str, uuid.UUID]]
) -> dict[uuid.UUID, uuid.UUID]:
    """The owner of each node (type, id); unknown nodes are absent."""
    by_type: dict[str, list[uuid.UUID]] = {"capture": [], "insight": [], "concept": []}
    for node_type, node_id in nodes:
        by_type.setdefault(node_type, []).append(node_id)
    rows = await uow.execute(
        text(
            """
            SELECT id, owner_id FROM captures WHERE id = ANY(CAST(:c AS uuid[]))
            UNION ALL SELECT id, owner_id FROM insights WHERE id = ANY(CAST(:i AS uuid[]))
            UNION ALL SELECT id, owner_id FROM concepts WHERE id = ANY(CAST(:k AS uuid[]))
            """
        ),
        {"c": by_type["capture"], "i": by_type["insight"], "k": by_type["concept"]},
    )
    return {r[0]: r[1] for r in rows}


async def node_stream_ids(
    uow: UnitOfWork, capture_ids: Sequence[uuid.UUID], insight_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Streams of the captures and of the insights' lineage (for event routing)."""
    rows = await uow.execute(
        text(
            """
            SELECT stream_id FROM captures WHERE id = ANY(CAST(:c AS uuid[]))
            UNION SELECT c.stream_id FROM insight_sources s JOIN captures c ON c.id = s.capture_id
            WHERE s.insight_id = ANY(CAST(:i AS uuid[]))
            """
        ),
        {"c": list(capture_ids), "i": list(insight_ids)},
    )
    return [r[0] for r in rows]


async def current_user_edge(
    uow: UnitOfWork, owner_id: uuid.UUID, from_id: uuid.UUID, to_id: uuid.UUID, relation: str
) -> Any | None:
    rows = await uow.execute(
        text(
            f"""
            SELECT {_COLS} FROM edges
            WHERE owner_id = :owner AND from_id = :f AND to_id = :t AND relation = :rel
              AND producer = 'USER' AND superseded_at IS NULL
            ORDER BY recorded_at DESC LIMIT 1 FOR UPDATE
            """
        ),
        {"owner": owner_id, "f": from_id, "t": to_id, "rel": relation},
    )
    return rows.first()


async def edge_for_update(uow: UnitOfWork, edge_id: uuid.UUID) -> Any | None:
    rows = await uow.execute(
        text(f"SELECT {_COLS} FROM edges WHERE id = :id FOR UPDATE"), {"id": edge_id}
    )
    return rows.first()


async def supersede(uow: UnitOfWork, ids: Sequence[uuid.UUID], at: datetime) -> list[Any]:
    """Mark current edges superseded at ``at``; returns their new rows."""
    if not ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            UPDATE edges SET superseded_at = :at
            WHERE id = ANY(CAST(:ids AS uuid[])) AND superseded_at IS NULL
            RETURNING {_COLS}
            """
        ),
        {"at": at, "ids": list(ids)},
    )
    return list(rows)


async def insert_edges(
    uow: UnitOfWork, owner_id: uuid.UUID, edges: Sequence[dict[str, Any]], at: datetime
) -> list[Any]:
    """Insert edges (keys: from_type, from_id, to_type, to_id, relation, weight, evidence,
    producer, created_by, valid_from, valid_to) in one statement; returns the rows."""
    if not edges:
        return []
    rows = await uow.execute(
        text(
            f"""
            INSERT INTO edges (owner_id, from_type, from_id, to_type, to_id, relation, weight,
                               evidence, producer, created_by, valid_from, valid_to, recorded_at)
            SELECT :owner, ft, fi, tt, ti, rel, w, CAST(ev AS jsonb), p, cb, vf, vt, :at
            FROM unnest(CAST(:ft AS text[]), CAST(:fi AS uuid[]), CAST(:tt AS text[]),
                        CAST(:ti AS uuid[]), CAST(:rel AS text[]), CAST(:w AS real[]),
                        CAST(:ev AS text[]), CAST(:p AS text[]), CAST(:cb AS uuid[]),
                        CAST(:vf AS timestamptz[]), CAST(:vt AS timestamptz[]))
                 AS n(ft, fi, tt, ti, rel, w, ev, p, cb, vf, vt)
            RETURNING {_COLS}
            """
        ),
        {
            "owner": owner_id,
            "at": at,
            "ft": [e["from_type"] for e in edges],
            "fi": [e["from_id"] for e in edges],
            "tt": [e["to_type"] for e in edges],
            "ti": [e["to_id"] for e in edges],
            "rel": [e["relation"] for e in edges],
            "w": [e["weight"] for e in edges],
            "ev": [
                orjson.dumps(e["evidence"]).decode() if e["evidence"] is not None else None
                for e in edges
            ],
            "p": [e["producer"] for e in edges],
            "cb": [e.get("created_by") for e in edges],
            "vf": [e.get("valid_from") for e in edges],
            "vt": [e.get("valid_to") for e in edges],
        },
    )
    return list(rows)


async def concepts_for_update(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> list[Any]:
    rows = await uow.execute(
        text(
            """
            SELECT id, owner_id, kind, name, normalized_name, aliases, normalized_aliases,
                   merged_into, created_at
            FROM concepts WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE
            """
        ),
        {"ids": list(ids)},
    )
    return list(rows)


async def absorb_concepts(
    uow: UnitOfWork,
    survivor: uuid.UUID,
    absorbed: Sequence[uuid.UUID],
    aliases: Sequence[str],
    normalized_aliases: Sequence[str],
) -> None:
    """Point ``absorbed`` (and anything merged into them) at ``survivor``; set its aliases."""
    await uow.execute(
        text(
            """
            UPDATE concepts SET merged_into = :survivor
            WHERE id = ANY(CAST(:ids AS uuid[])) OR merged_into = ANY(CAST(:ids AS uuid[]))
            """
        ),
        {"survivor": survivor, "ids": list(absorbed)},
    )
    await uow.execute(
        text("UPDATE concepts SET aliases = :aliases, normalized_aliases = :norm WHERE id = :id"),
        {"id": survivor, "aliases": list(aliases), "norm": list(normalized_aliases)},
    )


async def current_edges_touching(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> list[Any]:
    """Current edges with an end in ``ids``, locked (a merge rewrites them all)."""
    rows = await uow.execute(
        text(
            f"""
            SELECT {_COLS} FROM edges
            WHERE superseded_at IS NULL
              AND (from_id = ANY(CAST(:ids AS uuid[])) OR to_id = ANY(CAST(:ids AS uuid[])))
            FOR UPDATE
            """
        ),
        {"ids": list(ids)},
    )
    return list(rows)


async def current_ai_edges(
    uow: UnitOfWork, owner_id: uuid.UUID, keys: Sequence[tuple[uuid.UUID, uuid.UUID, str]]
) -> list[Any]:
    """Current AI edges with one of the (from, to, relation) keys, locked."""
    if not keys:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT {_COLS} FROM edges e
            JOIN unnest(CAST(:f AS uuid[]), CAST(:t AS uuid[]), CAST(:r AS text[])) AS k(f, t, r)
              ON e.from_id = k.f AND e.to_id = k.t AND e.relation = k.r
            WHERE e.owner_id = :owner AND e.producer = 'AI' AND e.superseded_at IS NULL
            FOR UPDATE OF e
            """
        ),
        {
            "owner": owner_id,
            "f": [k[0] for k in keys],
            "t": [k[1] for k in keys],
            "r": [k[2] for k in keys],
        },
    )
    return list(rows)
