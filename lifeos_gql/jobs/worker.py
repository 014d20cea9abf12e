"""Running job workers: a process of its own, or a task inside ``serve``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import procrastinate

from lifeos_gql.jobs.services import AnalysisServices, JobsRuntime, open_analysis_services
from lifeos_gql.jobs.sweeper import run_sweeper
from lifeos_gql.jobs.tasks import SERVICES_KEY, build_job_app

log = logging.getLogger(__name__)

#: How long a stopping worker lets running jobs finish before aborting them;
#: an aborted job's captures are re-run later (see the sweeper).
SHUTDOWN_GRACE_SECONDS = 20.0


@asynccontextmanager
async def open_job_app(runtime: JobsRuntime, *, pool_size: int) -> AsyncIterator[procrastinate.App]:
    """The procrastinate app on the runtime's database, opened; closed on exit."""
    app = build_job_app(runtime.database_url, runtime.settings, pool_size=pool_size)
    async with app.open_async():
        yield app


async def run_worker(
    services: AnalysisServices,
    app: procrastinate.App,
    *,
    name: str,
    concurrency: int | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Process jobs and sweep the outbox until stopped (signal or cancellation).

    With signal handlers, SIGTERM/SIGINT stop taking jobs and let running
    ones finish (up to ``SHUTDOWN_GRACE_SECONDS``).
    """
    settings = services.settings
    stalled = settings.lifeos_worker_stalled_seconds
    sweeper = asyncio.create_task(run_sweeper(services, app), name="lifeos-analysis-sweeper")
    try:
        await app.run_worker_async(
            name=name,
            concurrency=concurrency or settings.lifeos_worker_concurrency,
            additional_context={SERVICES_KEY: services},
            install_signal_handlers=install_signal_handlers,
            # Three heartbeats per stall window: one late beat is not a death.
            update_heartbeat_interval=stalled / 3,
            stalled_worker_timeout=stalled,
            shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
            delete_jobs="successful",
        )
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper


async def run_standalone_worker(runtime: JobsRuntime, *, concurrency: int | None = None) -> None:
    """``lifeos-gql worker``: one worker process until SIGTERM/SIGINT."""
    size = (concurrency or runtime.settings.lifeos_worker_concurrency) + 2
    async with (
        open_analysis_services(runtime) as services,
        open_job_app(runtime, pool_size=size) as app,
    ):
        log.info("LifeOS worker ready")
        await run_worker(services, app, name="lifeos-worker", concurrency=concurrency)


@asynccontextmanager
async def start_inprocess_worker(runtime: JobsRuntime) -> AsyncIterator[None]:
    """Run a worker inside this process while the context is open (``serve``'s lifespan).

    Does nothing unless ``settings.run_inprocess_worker``. On exit the worker
    stops taking jobs and lets running ones finish.
    """
    if not runtime.settings.run_inprocess_worker:
        yield
        return
    size = runtime.settings.lifeos_worker_concurrency + 2

    async def run() -> None:
        # Opened inside the task: loading the embedding model (about a
        # second) must not delay the server's start-up.
        async with (
            open_analysis_services(runtime) as services,
            open_job_app(runtime, pool_size=size) as app,
        ):
            await run_worker(services, app, name="lifeos-inprocess", install_signal_handlers=False)

    task = asyncio.create_task(run(), name="lifeos-inprocess-worker")
    task.add_done_callback(_log_unexpected_exit)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _log_unexpected_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("in-process worker stopped", exc_info=task.exception())
