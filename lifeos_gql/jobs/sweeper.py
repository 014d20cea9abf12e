"""The outbox sweeper: no acknowledged capture is left unanalysed.

Each sweep, in this order:

1. jobs whose worker stopped sending heartbeats (killed, frozen, lost) go
   back to ``todo`` (procrastinate's stalled-job recovery); the re-run
   re-claims the captures the dead run held;
2. ``RUNNING`` captures whose job is gone or finished go back to ``PENDING``;
3. ``PENDING`` captures without a live job get new jobs;
4. expired data exports lose their archives (the rows stay, ``EXPIRED``):
   a download link is dead after its expiry, and an archive of someone's
   whole life must not outlive it in the database.

Every worker process sweeps; sweeps are safe to run concurrently (row
locks with ``SKIP LOCKED``, and a job already retried is left alone).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Final

import procrastinate
from procrastinate.exceptions import ConnectorException

from lifeos_gql.domains.privacy import service as privacy
from lifeos_gql.jobs import outbox
from lifeos_gql.jobs.services import AnalysisServices

log = logging.getLogger(__name__)

#: Captures queued per sweep; a full sweep is followed by another at once.
SWEEP_LIMIT: Final = 1000
#: How long a run started without a job (a direct ``analyse`` call) holds its claim.
JOBLESS_LEASE_SECONDS: Final = 900.0


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did."""

    retried_jobs: int
    released: int
    queued_jobs: int
    queued_captures: int
    expired_exports: int = 0


async def sweep_once(services: AnalysisServices, app: procrastinate.App) -> SweepReport:
    """Run the three steps of the module docstring once."""
    settings = services.settings
    stalled = await app.job_manager.get_stalled_jobs(
        task_name=outbox.TASK_NAME, seconds_since_heartbeat=settings.lifeos_worker_stalled_seconds
    )
    retried = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
            retried += 1
        except ConnectorException:
            # Another sweeper retried it first: the job is no longer "doing".
            log.debug("stalled job %s was already recovered", job.id)
    async with services.db.transaction() as uow:
        released = await outbox.release_orphans(uow, lease_seconds=JOBLESS_LEASE_SECONDS)
        job_ids, count = await outbox.enqueue_strays(
            uow, batch_size=settings.lifeos_analysis_batch_size, limit=SWEEP_LIMIT
        )
    async with services.db.transaction() as uow:
        expired = await privacy.drop_expired_exports(uow=uow)
    report = SweepReport(retried, len(released), len(job_ids), count, expired)
    if retried or released or job_ids or expired:
        log.info("analysis sweep: %s", report)
    return report


async def run_sweeper(services: AnalysisServices, app: procrastinate.App) -> None:
    """Sweep every ``LIFEOS_ANALYSIS_SWEEP_SECONDS`` until cancelled."""
    interval = services.settings.lifeos_analysis_sweep_seconds
    while True:
        try:
            report = await sweep_once(services, app)
        except Exception:
            log.exception("analysis sweep failed; retrying in %.0f s", interval)
        else:
            if report.queued_captures >= SWEEP_LIMIT:
                continue
        await asyncio.sleep(interval)
