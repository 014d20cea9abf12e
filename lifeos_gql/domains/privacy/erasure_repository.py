"""SQL of erasure: everything about one user, across every table.

Most rows are found generically: every table with an ``owner_id`` column,
and every other column with a foreign key to ``users(id)`` that cascades.
What no foreign key reaches is deleted explicitly: the user's contributions
to other people's streams (captures they wrote, and what was derived from
them), pending invitations to their email, and queued jobs naming their data.
Rows removed are counted from ``pg_stat_xact_user_tables``, which includes
rows removed by cascades, so the receipt is exact whatever cascades.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

_LOCK_USER = text("SELECT id, email FROM users WHERE id = :u FOR UPDATE")
_BY_SUBJECT = text("SELECT id FROM users WHERE external_subject = :s")
_DELETED_SO_FAR = text(
    "SELECT relname, n_tup_del FROM pg_stat_xact_user_tables WHERE schemaname = current_schema()"
)
# Single-column foreign keys to users(id) in this schema, with their ON DELETE rule.
_USER_FKS = text(
    """
    SELECT cl.relname AS table_name, a.attname AS column_name, c.confdeltype AS on_delete
    FROM pg_constraint c
    JOIN pg_class cl ON cl.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass
      AND cardinality(c.conkey) = 1 AND n.nspname = current_schema()
    ORDER BY cl.relname, a.attname
    """
)
# Foreign keys between tables of this schema: (referencing, referenced).
_TABLE_FKS = text(
    """
    SELECT cl.relname AS child, p.relname AS parent
    FROM pg_constraint c
    JOIN pg_class cl ON cl.oid = c.conrelid
    JOIN pg_class p ON p.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace
    WHERE c.contype = 'f' AND n.nspname = current_schema() AND cl.oid <> p.oid
    """
)
_OWNER_TABLES = text(
    """
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner_id' AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
    """
)

# ---- contributions to other people's streams ---------------------------------------

_AUTHORED_ELSEWHERE = text(
    "SELECT id, owner_id FROM captures WHERE author_id = :u AND owner_id <> :u"
)
_DERIVED_INSIGHTS = text(
    "SELECT DISTINCT s.insight_id, i.owner_id FROM insight_sources s"
    " JOIN insights i ON i.id = s.insight_id WHERE s.capture_id = ANY(CAST(:ids AS uuid[]))"
)
_MENTIONED_CONCEPTS = text(
    "SELECT DISTINCT to_id FROM edges WHERE from_id = ANY(CAST(:ids AS uuid[])) AND to_type = 'concept'"
)
_FOREIGN_EDGES = text(
    "DELETE FROM edges WHERE owner_id <> :u"
    " AND (from_id = ANY(CAST(:nodes AS uuid[])) OR to_id = ANY(CAST(:nodes AS uuid[])) OR created_by = :u)"
)
_FOREIGN_EVENTS = text(
    "DELETE FROM events WHERE owner_id <> :u AND node_id = ANY(CAST(:nodes AS uuid[]))"
)
_FOREIGN_EMBEDDINGS = text(
    "DELETE FROM embeddings WHERE owner_id <> :u AND node_id = ANY(CAST(:nodes AS text[]))"
)
_DELETE_INSIGHTS = text("DELETE FROM insights WHERE id = ANY(CAST(:ids AS uuid[]))")
_DELETE_CAPTURES = text("DELETE FROM captures WHERE id = ANY(CAST(:ids AS uuid[]))")
# Concepts that only the erased captures mentioned: no capture or insight
# links to them any more and no user drew an edge to them. They go with
# their concept-to-concept edges (CO_OCCURS counts born of those captures).
_ORPHAN_CONCEPTS = text(
    """
    WITH orphans AS (
        SELECT c.id FROM concepts c
        WHERE c.id = ANY(CAST(:ids AS uuid[]))
          AND NOT EXISTS (
              SELECT 1 FROM edges e
              WHERE (e.to_id = c.id AND e.from_type <> 'concept')
                 OR (e.from_id = c.id AND e.to_type <> 'concept')
                 OR ((e.from_id = c.id OR e.to_id = c.id) AND e.producer = 'USER'))
          AND NOT EXISTS (SELECT 1 FROM concepts m WHERE m.merged_into = c.id)
    ), dropped_edges AS (
        DELETE FROM edges e USING orphans o WHERE e.from_id = o.id OR e.to_id = o.id
    )
    DELETE FROM concepts c USING orphans o WHERE c.id = o.id
    """
)
_RECEIVED_GRANTS = text(
    "DELETE FROM grants WHERE owner_id <> :u AND (grantee_id = :u"
    " OR (grantee_id IS NULL AND CAST(:email AS text) IS NOT NULL"
    "     AND lower(grantee_email) = lower(CAST(:email AS text))))"
)
_NAMES_THEIR_CAPTURES = """
    j.task_name = :analyse AND jsonb_typeof(j.args -> 'capture_ids') = 'array'
    AND EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(j.args -> 'capture_ids') AS a(id)
        WHERE CAST(a.id AS uuid) = ANY(CAST(:authored AS uuid[])) OR EXISTS (
            SELECT 1 FROM captures c WHERE c.id = CAST(a.id AS uuid) AND c.owner_id = :u))
"""
# Analysis runs under way on the user's captures: they may still write vectors.
_RUNNING_JOBS = text(
    f"SELECT j.id FROM procrastinate_jobs j WHERE j.status = 'doing' AND {_NAMES_THEIR_CAPTURES}"
)
_STILL_RUNNING = text(
    "SELECT count(*) FROM procrastinate_jobs"
    " WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'doing'"
)
# Queued (not running) jobs naming the user's captures or exports. A running
# job finds its rows gone and ends quietly; the sweeper re-queues another
# owner's captures that shared a deleted analysis job.
_JOBS = text(
    f"""
    DELETE FROM procrastinate_jobs j WHERE j.status <> 'doing' AND (
        ({_NAMES_THEIR_CAPTURES})
        OR (j.task_name = :export AND j.args ->> 'export_id' IN (
            SELECT CAST(e.id AS text) FROM exports e WHERE e.owner_id = :u)))
    """
)


@dataclass(frozen=True, slots=True)
class UserFk:
    """A foreign key column to ``users(id)`` and its ``ON DELETE`` rule (pg_constraint code)."""

    table: str
    column: str
    on_delete: str

    @property
    def removes_rows(self) -> bool:
        """CASCADE deletes the rows; NO ACTION / RESTRICT would block deleting the user."""
        return self.on_delete in ("c", "a", "r")


@dataclass
class Contributions:
    """What the user added to other people's streams, per stream owner."""

    capture_ids: list[uuid.UUID] = field(default_factory=list)
    insight_ids: list[uuid.UUID] = field(default_factory=list)
    concept_ids: list[uuid.UUID] = field(default_factory=list)
    #: Vector ids to delete from each other owner's index.
    vector_ids: dict[uuid.UUID, list[str]] = field(default_factory=dict)


async def lock_user(uow: UnitOfWork, user_id: uuid.UUID) -> Any:
    """Lock the user row (``FOR UPDATE``): until commit, no row can start referring to it.

    Every insert naming the user (as owner, author, grantee) checks its
    foreign key with ``FOR KEY SHARE`` on this row, which waits for us and
    then fails: nothing of theirs is added behind the erasure's back.
    """
    return (await uow.execute(_LOCK_USER, {"u": user_id})).first()


async def user_id_by_subject(uow: UnitOfWork, subject: str) -> uuid.UUID | None:
    row = (await uow.execute(_BY_SUBJECT, {"s": subject})).first()
    return row[0] if row else None


async def deleted_so_far(uow: UnitOfWork) -> dict[str, int]:
    """Rows deleted per table by this transaction so far (cascades included)."""
    return {row[0]: int(row[1]) for row in await uow.execute(_DELETED_SO_FAR)}


async def user_foreign_keys(uow: UnitOfWork) -> list[UserFk]:
    rows = await uow.execute(_USER_FKS)
    return [UserFk(r.table_name, r.column_name, str(r.on_delete)) for r in rows]


async def owner_tables_children_first(uow: UnitOfWork) -> list[str]:
    """Tables with ``owner_id``, each listed before the tables it references.

    Deleting referencing tables first keeps ``NO ACTION`` foreign keys
    between them from failing; cascading ones would not mind either way.
    """
    tables = [r[0] for r in await uow.execute(_OWNER_TABLES)]
    children: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in await uow.execute(_TABLE_FKS):
        if child in children and parent in children:
            children[parent].add(child)
    ordered: list[str] = []
    done: set[str] = set()

    def visit(table: str, path: frozenset[str]) -> None:
        if table in done or table in path:  # a cycle: any order will do
            return
        for child in sorted(children[table]):
            visit(child, path | {table})
        done.add(table)
        ordered.append(table)

    for table in tables:
        visit(table, frozenset())
    return ordered


async def delete_where(uow: UnitOfWork, table: str, column: str, user_id: uuid.UUID) -> None:
    """``DELETE FROM table WHERE column = user`` (names come from the catalog, quoted)."""
    await uow.execute(text(f'DELETE FROM "{table}" WHERE "{column}" = :u'), {"u": user_id})


async def delete_contributions(uow: UnitOfWork, user_id: uuid.UUID) -> Contributions:
    """Delete captures the user wrote into others' streams and what was derived from them.

    Derived: insights whose lineage includes such a capture, every edge
    touching those captures or insights (and edges the user drew in others'
    graphs), their events and embeddings, and concepts nothing else mentions.
    """
    found = Contributions()
    for row in await uow.execute(_AUTHORED_ELSEWHERE, {"u": user_id}):
        found.capture_ids.append(row.id)
        found.vector_ids.setdefault(row.owner_id, []).append(str(row.id))
    ids = found.capture_ids
    if ids:
        found.insight_ids = [r[0] for r in await uow.execute(_DERIVED_INSIGHTS, {"ids": ids})]
        found.concept_ids = [r[0] for r in await uow.execute(_MENTIONED_CONCEPTS, {"ids": ids})]
    nodes = ids + found.insight_ids
    await uow.execute(_FOREIGN_EDGES, {"u": user_id, "nodes": nodes})
    if nodes:
        await uow.execute(_FOREIGN_EVENTS, {"u": user_id, "nodes": nodes})
        await uow.execute(_FOREIGN_EMBEDDINGS, {"u": user_id, "nodes": [str(n) for n in nodes]})
        await uow.execute(_DELETE_INSIGHTS, {"ids": found.insight_ids})
        await uow.execute(_DELETE_CAPTURES, {"ids": ids})
    if found.concept_ids:
        await uow.execute(_ORPHAN_CONCEPTS, {"ids": found.concept_ids})
    return found


async def delete_received_grants(uow: UnitOfWork, user_id: uuid.UUID, email: str | None) -> None:
    """Grants others gave the user, and pending invitations to their email."""
    await uow.execute(_RECEIVED_GRANTS, {"u": user_id, "email": email})


async def running_analysis_jobs(
    uow: UnitOfWork, user_id: uuid.UUID, authored: Sequence[uuid.UUID], *, analyse_task: str
) -> list[int]:
    """Ids of analysis jobs running now on the user's captures."""
    params = {"u": user_id, "authored": list(authored), "analyse": analyse_task}
    return [int(r[0]) for r in await uow.execute(_RUNNING_JOBS, params)]


async def count_running(uow: UnitOfWork, job_ids: Sequence[int]) -> int:
    """How many of these jobs are still running."""
    return int((await uow.execute(_STILL_RUNNING, {"ids": list(job_ids)})).scalar_one())


async def delete_queued_jobs(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    authored: Sequence[uuid.UUID],
    *,
    analyse_task: str,
    export_task: str,
) -> None:
    await uow.execute(
        _JOBS,
        {"u": user_id, "authored": list(authored), "analyse": analyse_task, "export": export_task},
    )
