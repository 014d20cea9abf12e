"""The analysis outbox: capture status transitions and queueing analysis jobs.

``captures.analysis_status = 'PENDING'`` is the outbox row. Jobs are
procrastinate jobs inserted with procrastinate's own SQL function
(``procrastinate_defer_jobs_v1``) on the caller's connection, so a capture
and the job that analyses it commit together. ``analysis_job_id`` names the
job responsible for a capture; the sweeper queues a new job for any
``PENDING`` capture whose job is not alive (``todo``/``doing``).

A run claims captures with a fresh ``analysis_run_id``; only that run may
end them (``DONE``/``FAILED``/``SKIPPED``) or release them, so a run that
outlived its claim never writes twice. A job re-run by procrastinate (retry,
or recovery after its worker died) may re-claim the ``RUNNING`` captures it
claimed before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import orjson
from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.graph import service as graph

TASK_NAME: Final = "lifeos.analyse_captures"
QUEUE: Final = "analysis"
ATTEMPTS_EXHAUSTED: Final = "ANALYSIS_ATTEMPTS_EXHAUSTED"

_LIVE_JOB = (
    "EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.id = c.analysis_job_id"
    " AND j.status IN ('todo', 'doing'))"
)
_CLAIMABLE = (
    "(c.analysis_status = 'PENDING' OR (c.analysis_status = 'RUNNING'"
    " AND CAST(:job AS bigint) IS NOT NULL AND c.analysis_job_id = CAST(:job AS bigint)))"
)

_DEFER = text(
    """
    SELECT unnest(procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(:queue, :task, 0, NULL, NULL,
                   jsonb_build_object('capture_ids', b.batch), NULL)::procrastinate_job_to_defer_v1
        FROM jsonb_array_elements(CAST(:batches AS jsonb)) WITH ORDINALITY AS b(batch, n)
        ORDER BY b.n
    ))) AS id
    """
)
# A second statement: rows a function inserted are not visible to the rest of
# the statement that called it. Pairs come from Python (the job ids return
# in batch order): re-reading them from the jobs' JSON args cost ~4x more.
_LINK = text(
    """
    UPDATE captures c SET analysis_job_id = v.job
    FROM unnest(CAST(:capture_ids AS uuid[]), CAST(:job_ids AS bigint[])) AS v(cid, job)
    WHERE c.id = v.cid AND c.analysis_status = 'PENDING'
    """
)
# Deletes only 'todo' jobs this transaction inserted (migration 0013).
_DROP_JOBS = text("SELECT lifeos_forget_new_jobs(CAST(:ids AS bigint[]))")
_PENDING_AMONG = text(
    f"""
    SELECT c.id, c.owner_id FROM captures c
    WHERE c.id = ANY(:ids) AND c.analysis_status = 'PENDING'
      AND (c.analysis_job_id IS NULL OR NOT {_LIVE_JOB})
    ORDER BY c.owner_id, c.occurred_at, c.id
    FOR UPDATE OF c
    """
)
_REQUEST = text(
    f"""
    UPDATE captures c SET analysis_status = 'PENDING', analysis_error = NULL,
        analysis_attempts = 0, analysis_job_id = NULL, analysis_run_id = NULL,
        analysis_claimed_at = NULL
    WHERE c.id = ANY(:ids) AND (c.analysis_status IN ('DONE', 'FAILED', 'SKIPPED')
        OR (c.analysis_status = 'PENDING' AND (c.analysis_job_id IS NULL OR NOT {_LIVE_JOB})))
    RETURNING c.id
    """
)
_ORPHANS = text(
    f"""
    UPDATE captures c SET analysis_status = 'PENDING', analysis_job_id = NULL,
        analysis_run_id = NULL, analysis_claimed_at = NULL
    WHERE c.analysis_status = 'RUNNING' AND (
        (c.analysis_job_id IS NULL
            AND c.analysis_claimed_at < now() - make_interval(secs => :lease))
        OR (c.analysis_job_id IS NOT NULL AND NOT {_LIVE_JOB}))
    RETURNING c.id
    """
)
_STRAYS = text(
    f"""
    SELECT c.id, c.owner_id FROM captures c
    WHERE c.analysis_status = 'PENDING' AND (c.analysis_job_id IS NULL OR NOT {_LIVE_JOB})
    ORDER BY c.owner_id, c.occurred_at, c.id
    LIMIT :limit
    FOR UPDATE OF c SKIP LOCKED
    """
)
_EXHAUST = text(
    f"""
    UPDATE captures c SET analysis_status = 'FAILED', analysis_error = :code,
        analysis_job_id = NULL, analysis_run_id = NULL, analysis_claimed_at = NULL
    WHERE c.id = ANY(:ids) AND c.analysis_attempts >= :max_attempts AND {_CLAIMABLE}
    RETURNING c.id, c.owner_id, c.stream_id
    """
)
_CLAIM = text(
    f"""
    UPDATE captures c SET analysis_status = 'RUNNING', analysis_run_id = :run,
        analysis_job_id = CAST(:job AS bigint), analysis_claimed_at = now(),
        analysis_attempts = c.analysis_attempts + 1, analysis_error = NULL
    WHERE c.id = ANY(:ids) AND c.analysis_attempts < :max_attempts AND {_CLAIMABLE}
    RETURNING c.id, c.owner_id, c.analysis_attempts
    """
)
_FINISH = text(
    """
    UPDATE captures SET analysis_status = :status, analysis_error = :error,
        analysed_at = CASE WHEN :status = 'FAILED' THEN analysed_at ELSE now() END,
        analysis_job_id = NULL, analysis_run_id = NULL, analysis_claimed_at = NULL
    WHERE id = ANY(:ids) AND analysis_status = 'RUNNING' AND analysis_run_id = :run
    RETURNING id, owner_id, stream_id
    """
)
_RELEASE = text(
    """
    UPDATE captures SET analysis_status = 'PENDING', analysis_run_id = NULL,
        analysis_claimed_at = NULL
    WHERE id = ANY(:ids) AND analysis_status = 'RUNNING' AND analysis_run_id = :run
    RETURNING id
    """
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A capture a run now holds."""

    id: uuid.UUID
    owner_id: uuid.UUID
    attempts: int


def batches_by_owner(
    rows: Iterable[tuple[uuid.UUID, uuid.UUID]], batch_size: int
) -> list[list[uuid.UUID]]:
    """Split ``(capture_id, owner_id)`` rows into per-owner batches, order kept.

    One owner per batch: the analyser links items of one call to each other,
    and a run's transactions act as that owner.
    """
    grouped: dict[uuid.UUID, list[uuid.UUID]] = {}
    for capture_id, owner_id in rows:
        grouped.setdefault(owner_id, []).append(capture_id)
    return [
        ids[start : start + batch_size]
        for ids in grouped.values()
        for start in range(0, len(ids), batch_size)
    ]


async def _defer_unlinked(uow: UnitOfWork, batches: Sequence[Sequence[uuid.UUID]]) -> list[int]:
    """Queue one analysis job per batch; returns the job ids in batch order."""
    if not batches:
        return []
    payload = orjson.dumps([[str(i) for i in batch] for batch in batches]).decode()
    rows = await uow.execute(_DEFER, {"queue": QUEUE, "task": TASK_NAME, "batches": payload})
    # Ids come from the jobs' sequence in the order the batches were inserted;
    # sorting makes the pairing independent of how the function aggregates
    # them. (A mispaired link could not lose a capture anyway: its own job
    # claims it by id.)
    return sorted(int(row.id) for row in rows)


async def defer_batches(uow: UnitOfWork, batches: Sequence[Sequence[uuid.UUID]]) -> list[int]:
    """Queue one analysis job per batch in ``uow``'s transaction; returns job ids."""
    if not batches:
        return []
    job_ids = await _defer_unlinked(uow, batches)
    pairs = [(cid, job) for batch, job in zip(batches, job_ids, strict=True) for cid in batch]
    await uow.execute(
        _LINK, {"capture_ids": [p[0] for p in pairs], "job_ids": [p[1] for p in pairs]}
    )
    return job_ids


class JobsAtInsert:
    """Queues analysis of new captures before they are inserted, so each row is born linked.

    Linking after the insert (``enqueue_analysis``) rewrites every new row
    (``UPDATE captures SET analysis_job_id``): for a 1,000-item batch that
    update cost about as much as the insert itself. Here the service asks
    for job ids first (:meth:`assign`), writes them with the rows, then
    reports which rows the insert actually kept (:meth:`settle`): jobs
    whose batch lost rows to duplicates are replaced by jobs carrying
    exactly the rows that went in. All of it runs in the capture's
    transaction, so captures and jobs still commit (or vanish) together.
    """

    def __init__(self, *, batch_size: int) -> None:
        self.batch_size = batch_size
        self.assigned: dict[uuid.UUID, int] = {}
        self._owners: dict[uuid.UUID, uuid.UUID] = {}

    async def assign(
        self, uow: UnitOfWork, rows: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[uuid.UUID, int]:
        """Defer jobs for ``(capture_id, owner_id)`` rows about to be inserted; capture -> job."""
        self._owners.update(rows)
        batches = batches_by_owner(rows, self.batch_size)
        job_ids = await _defer_unlinked(uow, batches)
        planned = {cid: job for batch, job in zip(batches, job_ids, strict=True) for cid in batch}
        self.assigned.update(planned)
        return planned

    async def settle(
        self, uow: UnitOfWork, planned: dict[uuid.UUID, int], inserted: set[uuid.UUID]
    ) -> None:
        """Make the jobs of ``planned`` carry only the captures in ``inserted``."""
        by_job: dict[int, list[uuid.UUID]] = {}
        for capture_id, job in planned.items():
            by_job.setdefault(job, []).append(capture_id)
        broken = [job for job, ids in by_job.items() if any(i not in inserted for i in ids)]
        if not broken:
            return
        # Inserted by this very transaction and still 'todo': no worker has
        # seen them, so deleting is exact (their NOTIFY, sent at commit, finds
        # nothing to fetch). Were one kept (it cannot be, short of a savepoint
        # around the insert), it would only carry ids that the new job also
        # carries or that never existed: claiming by id makes that harmless.
        await uow.execute(_DROP_JOBS, {"ids": broken})
        kept: list[tuple[uuid.UUID, uuid.UUID]] = []
        for job in broken:
            for capture_id in by_job[job]:
                del self.assigned[capture_id]
                if capture_id in inserted:
                    kept.append((capture_id, self._owners[capture_id]))
        # The survivors of all broken jobs, batched afresh (full-size jobs).
        batches = batches_by_owner(kept, self.batch_size)
        job_ids = await defer_batches(uow, batches)
        for ids, new_job in zip(batches, job_ids, strict=True):
            for capture_id in ids:
                self.assigned[capture_id] = new_job


async def enqueue_analysis(
    uow: UnitOfWork, capture_ids: Sequence[uuid.UUID], *, batch_size: int
) -> list[int]:
    """Queue analysis of the ``PENDING`` captures among ``capture_ids`` that have no live job.

    Call it in the transaction that created the captures: they and their
    jobs commit together (or not at all). Without it the sweeper still
    queues them, one sweep later.
    """
    if not capture_ids:
        return []
    rows = await uow.execute(_PENDING_AMONG, {"ids": list(capture_ids)})
    return await defer_batches(
        uow, batches_by_owner(((r.id, r.owner_id) for r in rows), batch_size)
    )


async def request_analysis(
    uow: UnitOfWork, capture_ids: Sequence[uuid.UUID], *, batch_size: int
) -> list[uuid.UUID]:
    """Analyse these captures again (``requestAnalysis``); returns the ids queued.

    Finished captures (``DONE``/``FAILED``/``SKIPPED``) go back to
    ``PENDING`` with a fresh attempt budget; a ``RUNNING`` one is left to
    its run; permission checks are the caller's.
    """
    if not capture_ids:
        return []
    reset = [row.id for row in await uow.execute(_REQUEST, {"ids": list(capture_ids)})]
    await enqueue_analysis(uow, reset, batch_size=batch_size)
    return reset


async def release_orphans(uow: UnitOfWork, *, lease_seconds: float) -> list[uuid.UUID]:
    """``RUNNING`` captures whose job is gone or finished go back to ``PENDING``.

    Runs without a job (direct calls) hold their claim for ``lease_seconds``.
    """
    rows = await uow.execute(_ORPHANS, {"lease": lease_seconds})
    return [row.id for row in rows]


async def enqueue_strays(uow: UnitOfWork, *, batch_size: int, limit: int) -> tuple[list[int], int]:
    """Queue jobs for up to ``limit`` ``PENDING`` captures with no live job.

    Returns the new job ids and how many captures they cover.
    """
    rows = [(r.id, r.owner_id) for r in await uow.execute(_STRAYS, {"limit": limit})]
    return await defer_batches(uow, batches_by_owner(rows, batch_size)), len(rows)


async def claim(
    uow: UnitOfWork,
    capture_ids: Sequence[uuid.UUID],
    *,
    run_id: uuid.UUID,
    job_id: int | None,
    max_attempts: int,
) -> tuple[list[Claimed], list[uuid.UUID]]:
    """Mark claimable captures ``RUNNING`` for this run; returns (claimed, exhausted).

    Captures already run ``max_attempts`` times end ``FAILED`` instead: a
    capture that crashes its worker every time must not loop forever.
    """
    params = {"ids": list(capture_ids), "job": job_id, "max_attempts": max_attempts}
    exhausted = await uow.execute(_EXHAUST, {**params, "code": ATTEMPTS_EXHAUSTED})
    exhausted_rows = [(row.id, row.owner_id, row.stream_id) for row in exhausted]
    exhausted_ids = [row[0] for row in exhausted_rows]
    rows = await uow.execute(_CLAIM, {**params, "run": run_id})
    claimed = [Claimed(row.id, row.owner_id, row.analysis_attempts) for row in rows]
    # Live subscribers (captureAnalyzed) hear of the failure with the change.
    # Last: the events lock is held until commit and comes after row locks.
    await graph.record_analysis_ended(
        uow=uow, ended=exhausted_rows, status="FAILED", error=ATTEMPTS_EXHAUSTED
    )
    return claimed, exhausted_ids


async def finish(
    uow: UnitOfWork,
    capture_ids: Sequence[uuid.UUID],
    *,
    run_id: uuid.UUID,
    status: str,
    error: str | None = None,
) -> list[uuid.UUID]:
    """End this run's captures with ``status``; returns the ids still held (and ended)."""
    if not capture_ids:
        return []
    rows = [
        (row.id, row.owner_id, row.stream_id)
        for row in await uow.execute(
            _FINISH, {"ids": list(capture_ids), "run": run_id, "status": status, "error": error}
        )
    ]
    if status != "DONE":
        # Live subscribers (captureAnalyzed) hear of it when it commits. DONE is
        # announced by the caller after the graph it writes (locks in order:
        # the owner's graph lock before the events lock).
        await graph.record_analysis_ended(uow=uow, ended=rows, status=status, error=error)
    return [row[0] for row in rows]


async def release(
    uow: UnitOfWork, capture_ids: Sequence[uuid.UUID], *, run_id: uuid.UUID
) -> list[uuid.UUID]:
    """Give this run's captures back as ``PENDING`` (their job will retry them)."""
    if not capture_ids:
        return []
    rows = await uow.execute(_RELEASE, {"ids": list(capture_ids), "run": run_id})
    return [row.id for row in rows]
