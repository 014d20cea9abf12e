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
