"""When a failed analysis job runs again: exponential backoff with jitter.

procrastinate's own ``RetryStrategy`` has no jitter and whole seconds only;
jobs that failed together (a rate limit hits every worker at once) would
retry together and fail together again. Here the wait before retry ``n``
(``n`` = attempts so far) is drawn from ``[d/2, d]`` with
``d = min(cap, base * 2**n)`` ("equal jitter"): spread out, yet never much
shorter than the backoff. A server's ``retry_after`` hint is a floor.
"""

from __future__ import annotations

import random
from datetime import timedelta

import psycopg
from procrastinate import BaseRetryStrategy, RetryDecision
from procrastinate.jobs import Job
from sqlalchemy.exc import DBAPIError

from lifeos_gql.core.clock import utcnow


class RetryAnalysis(Exception):
    """Raised by the task when some captures failed transiently and were released."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def backoff_seconds(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait before the next run, after ``attempts`` runs (equal jitter)."""
    ceiling = min(cap, base * 2.0 ** min(attempts, 62))
    draw = (rng or random).uniform(0.0, ceiling / 2.0)
    return ceiling / 2.0 + draw


def is_retryable(exc: BaseException) -> bool:
    """Transient by nature: a released batch, or a lost database connection."""
    if isinstance(exc, RetryAnalysis | psycopg.OperationalError):
        return True
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)
    )


class AnalysisRetry(BaseRetryStrategy):
    """Retry transient failures up to ``max_attempts`` runs, with jittered backoff."""

    def __init__(self, *, max_attempts: int, base_seconds: float, max_seconds: float) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        """procrastinate's hook: ``None`` lets the job fail, else when to run it again."""
        # job.attempts counts the runs before this one.
        if job.attempts + 1 >= self.max_attempts or not is_retryable(exception):
            return None
        wait = backoff_seconds(job.attempts, base=self.base_seconds, cap=self.max_seconds)
        hint = exception.retry_after if isinstance(exception, RetryAnalysis) else None
        if hint is not None:
            wait = max(wait, min(hint, self.max_seconds))
        return RetryDecision(retry_at=utcnow() + timedelta(seconds=wait))
