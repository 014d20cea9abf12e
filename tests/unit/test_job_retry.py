"""Retry decisions of analysis jobs: exponential backoff, jitter, caps, hints."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import psycopg
import pytest
from procrastinate.jobs import Job

from lifeos_gql.core.clock import utcnow
from lifeos_gql.jobs.outbox import TASK_NAME, batches_by_owner
from lifeos_gql.jobs.retry import AnalysisRetry, RetryAnalysis, backoff_seconds


def job(attempts: int) -> Job:
    return Job(
        id=1,
        queue="analysis",
        lock=None,
        queueing_lock=None,
        task_name=TASK_NAME,
        attempts=attempts,
    )


STRATEGY = AnalysisRetry(max_attempts=6, base_seconds=2.0, max_seconds=60.0)


def test_backoff_doubles_per_attempt_within_its_jitter_band_and_is_capped() -> None:
    rng = random.Random(7)
    for attempts, ceiling in [(0, 2.0), (1, 4.0), (2, 8.0), (4, 32.0), (5, 60.0), (40, 60.0)]:
        draws = [backoff_seconds(attempts, base=2.0, cap=60.0, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws)
        # Jitter: retries that failed together do not wake together.
        assert max(draws) - min(draws) > ceiling / 4


def test_transient_failures_are_retried_later_until_the_last_attempt() -> None:
    before = utcnow()
    decision = STRATEGY.get_retry_decision(exception=RetryAnalysis("503"), job=job(2))
    assert decision is not None and decision.retry_at is not None
    assert before + timedelta(seconds=4) <= decision.retry_at <= utcnow() + timedelta(seconds=8)
    # attempts counts earlier runs: the sixth run is the last one.
    assert STRATEGY.get_retry_decision(exception=RetryAnalysis("503"), job=job(5)) is None


def test_a_servers_retry_after_hint_is_a_floor_capped_by_the_maximum() -> None:
    hinted = STRATEGY.get_retry_decision(
        exception=RetryAnalysis("429", retry_after=30.0), job=job(0)
    )
    assert hinted is not None and hinted.retry_at is not None
    assert hinted.retry_at >= utcnow() + timedelta(seconds=29)
    capped = STRATEGY.get_retry_decision(
        exception=RetryAnalysis("429", retry_after=3600.0), job=job(0)
    )
    assert capped is not None and capped.retry_at is not None
    assert capped.retry_at <= utcnow() + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (psycopg.OperationalError("server closed the connection"), True),
        (ValueError("a bug"), False),
        (KeyError("capture_ids"), False),
    ],
)
def test_only_transient_errors_are_retried(exc: Exception, retried: bool) -> None:
    assert (STRATEGY.get_retry_decision(exception=exc, job=job(0)) is not None) is retried


def test_batches_hold_one_owner_each_in_order() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(5)]
    rows = [(ids[0], a), (ids[1], b), (ids[2], a), (ids[3], a), (ids[4], b)]
    assert batches_by_owner(rows, 2) == [[ids[0], ids[2]], [ids[3]], [ids[1], ids[4]]]
