"""Captures are linked to the analysis job that carries them, in their transaction."""

from __future__ import annotations

import psycopg

from lifeos_gql.db.urls import libpq_url
from tests.helpers import dev_token, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { createdCount } }"


async def test_each_capture_names_the_job_that_carries_it(client, settings, db_url):
    token = dev_token(settings.lifeos_data_dir, "linked@example.com")
    stream = (await gql(client, CREATE, {"n": "s"}, token=token))["data"]["createStream"]["id"]
    inputs = [{"streamId": stream, "content": f"note {i}"} for i in range(40)]
    assert (await gql(client, BATCH, {"i": inputs}, token=token))["data"]["captureBatch"][
        "createdCount"
    ] == 40
    with psycopg.connect(libpq_url(db_url)) as conn:
        rows = conn.execute(
            """
            SELECT c.id::text, j.args -> 'capture_ids'
            FROM captures c JOIN procrastinate_jobs j ON j.id = c.analysis_job_id
            """
        ).fetchall()
        jobs = conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()[0]
    assert len(rows) == 40
    assert all(capture_id in carried for capture_id, carried in rows)
    batch = settings.lifeos_analysis_batch_size
    assert jobs == -(-40 // batch)


async def test_jobs_carry_exactly_the_captures_a_batch_inserted(client, settings, db_url):
    """Jobs are queued before the insert; items that turn out duplicates leave no trace in them."""
    token = dev_token(settings.lifeos_data_dir, "dupes@example.com")
    stream = (await gql(client, CREATE, {"n": "s"}, token=token))["data"]["createStream"]["id"]
    first = [{"streamId": stream, "content": f"note {i}", "externalId": f"e{i}"} for i in range(20)]
    assert (await gql(client, BATCH, {"i": first}, token=token))["data"]["captureBatch"][
        "createdCount"
    ] == 20
    # Half of these are retries of the first batch (externalId), spread through it.
    mixed = [
        item for i in range(20) for item in (first[i], {"streamId": stream, "content": f"new {i}"})
    ]
    assert (await gql(client, BATCH, {"i": mixed}, token=token))["data"]["captureBatch"][
        "createdCount"
    ] == 20
    # A batch of nothing but retries queues nothing.
    assert (await gql(client, BATCH, {"i": first}, token=token))["data"]["captureBatch"][
        "createdCount"
    ] == 0
    with psycopg.connect(libpq_url(db_url)) as conn:
        captures = {
            r[0]: r[1]
            for r in conn.execute("SELECT id::text, analysis_job_id FROM captures").fetchall()
        }
        jobs = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT id, args -> 'capture_ids' FROM procrastinate_jobs WHERE status = 'todo'"
            ).fetchall()
        }
        others = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'todo'"
        ).fetchone()[0]
    assert len(captures) == 40 and others == 0
    carried = [capture_id for ids in jobs.values() for capture_id in ids]
    assert sorted(carried) == sorted(captures)  # each capture in exactly one job, nothing else
    assert all(capture_id in jobs[job] for capture_id, job in captures.items())
    batch = settings.lifeos_analysis_batch_size
    assert len(jobs) == -(-20 // batch) * 2
