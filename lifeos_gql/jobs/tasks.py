"""The procrastinate app on the primary Postgres, and its tasks.

Tasks are registered per :class:`procrastinate.App` (not on a module-level
blueprint) so a process may build several apps, as tests do. A task takes
ids, opens its own units of work, and finds the worker's
:class:`AnalysisServices` in the job context.
"""

from __future__ import annotations

import uuid
from typing import Final

import procrastinate
from procrastinate import JobContext, PsycopgConnector

from lifeos_gql.config import Settings
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.jobs import outbox, pipeline
from lifeos_gql.jobs.export_task import register_export_task
from lifeos_gql.jobs.retry import AnalysisRetry, RetryAnalysis
from lifeos_gql.jobs.services import AnalysisServices

#: Key of the :class:`AnalysisServices` in a worker's ``additional_context``.
SERVICES_KEY: Final = "lifeos.analysis_services"


def build_job_app(
    database_url: str, settings: Settings, *, pool_size: int = 4
) -> procrastinate.App:
    """A procrastinate app on ``database_url`` with LifeOS's tasks (open it before use)."""
    connector = PsycopgConnector(
        conninfo=libpq_url(database_url),
        min_size=1,
        max_size=pool_size,
        kwargs={"application_name": "lifeos-gql-jobs"},
    )
    app = procrastinate.App(connector=connector)
    register_tasks(app, settings)
    return app


def register_tasks(app: procrastinate.App, settings: Settings) -> None:
    """Add ``lifeos.analyse_captures`` (retried with jittered backoff) and
    ``lifeos.build_export`` to ``app``."""
    max_attempts = settings.lifeos_analysis_max_attempts
    retry = AnalysisRetry(
        max_attempts=max_attempts,
        base_seconds=settings.lifeos_analysis_retry_base_seconds,
        max_seconds=settings.lifeos_analysis_retry_max_seconds,
    )

    @app.task(name=outbox.TASK_NAME, queue=outbox.QUEUE, pass_context=True, retry=retry)
    async def analyse_captures(context: JobContext, capture_ids: list[str]) -> dict[str, int]:
        """Analyse these captures; raises ``RetryAnalysis`` when some should run again."""
        services: AnalysisServices = context.additional_context[SERVICES_KEY]
        job = context.job
        outcome = await pipeline.analyse(
            services,
            [uuid.UUID(i) for i in capture_ids],
            job_id=job.id,
            final_attempt=job.attempts + 1 >= max_attempts,
        )
        if outcome.retry:
            raise RetryAnalysis(
                f"{len(outcome.retry)} captures failed transiently",
                retry_after=outcome.retry_after,
            )
        return outcome.summary()

    register_export_task(app, SERVICES_KEY)
