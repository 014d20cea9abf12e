"""pgvector works in the test server at the dimension LifeOS uses.

The embedded server's bundled pgvector once crashed (SIGILL) on CPUs without
AVX-512 at the first 384-d distance; this keeps that from coming back.
"""

from __future__ import annotations

import psycopg

from lifeos_gql.db.urls import libpq_url


def test_384_d_cosine_distance_and_hnsw(db_url):
    first = "[" + ",".join(["0.1"] * 384) + "]"
    second = "[" + ",".join(["0.1"] * 383 + ["0.9"]) + "]"
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE v (id int, e vector(384))")
        conn.execute("CREATE INDEX ON v USING hnsw (e vector_cosine_ops)")
        for i in range(50):
            conn.execute("INSERT INTO v VALUES (%s, %s)", (i, first if i % 2 else second))
        distance = conn.execute(
            "SELECT %s::vector(384) <=> %s::vector(384)", (first, second)
        ).fetchone()[0]
        nearest = conn.execute(
            "SELECT id FROM v ORDER BY e <=> %s::vector(384) LIMIT 1", (first,)
        ).fetchone()[0]
    assert 0.0 < distance < 1.0
    assert nearest % 2 == 1
