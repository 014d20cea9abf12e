"""PgVectorIndex on the real ``embeddings`` table of a migrated Postgres.

The shared VectorIndexContract uses 4-dimensional vectors: its fixture turns
this test's own database clone's ``embedding`` column into ``vector(4)``
(the HNSW index is rebuilt with it). The 384-dimension tests use the table
exactly as migrated.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text

from lifeos_gql.db.engine import count_statements, create_engine
from lifeos_gql.db.uow import Database
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.infra.embeddings.base import EMBEDDING_DIM
from lifeos_gql.infra.vectors.base import (
    VectorIndex,
    VectorIndexError,
    VectorQuery,
    VectorRecord,
)
from lifeos_gql.infra.vectors.factory import build_vector_index
from lifeos_gql.infra.vectors.pgvector_index import PgVectorIndex
from tests.conftest import make_settings
from tests.unit.test_memory_vector_index import (
    FAR,
    MID,
    NEAR,
    OWNER_A,
    OWNER_B,
    QUERY,
    VectorIndexContract,
    rec,
)

PRODUCER = "test-embedder@1"


def _create_owners(url: str, *owners: uuid.UUID) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        for owner in owners:
            conn.execute(
                "INSERT INTO users (id, external_subject) VALUES (%s, %s)", (owner, f"sub-{owner}")
            )


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    _create_owners(db_url, OWNER_A, OWNER_B)
    db = Database(create_engine(db_url, pool_size=2))
    yield db
    await db.dispose()


class TestPgVectorContract(VectorIndexContract):
    @pytest.fixture
    async def index(self, db_url: str, database: Database) -> AsyncIterator[VectorIndex]:
        with psycopg.connect(libpq_url(db_url)) as conn:
            conn.execute("ALTER TABLE embeddings ALTER COLUMN embedding TYPE vector(4)")
        index = PgVectorIndex(database, producer=PRODUCER, dimension=4)
        yield index
        await index.aclose()


@pytest.fixture
async def four_d(db_url: str, database: Database) -> Database:
    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute("ALTER TABLE embeddings ALTER COLUMN embedding TYPE vector(4)")
    return database


async def test_producers_never_see_each_others_vectors(four_d: Database) -> None:
    old = PgVectorIndex(four_d, producer="model-a@1", dimension=4)
    new = PgVectorIndex(four_d, producer="model-b@2", dimension=4)
    await old.upsert([rec("x", NEAR), rec("only-old", MID)])
    await new.upsert([rec("x", FAR)])

    new_hits = await new.query(owner_id=OWNER_A, vector=QUERY, top_k=5)

    assert [m.id for m in new_hits] == ["x"]
    assert new_hits[0].score < 0.2  # FAR's own score, not NEAR's under the other producer
    assert await old.count(OWNER_A) == 2
    assert await new.count(OWNER_A) == 1


async def test_deleting_a_node_removes_it_under_every_producer(four_d: Database) -> None:
    old = PgVectorIndex(four_d, producer="model-a@1", dimension=4)
    new = PgVectorIndex(four_d, producer="model-b@2", dimension=4)
    await old.upsert([rec("x", NEAR), rec("y", MID)])
    await new.upsert([rec("x", NEAR)])

    await new.delete(owner_id=OWNER_A, ids=["x"])

    assert [m.id for m in await old.query(owner_id=OWNER_A, vector=QUERY, top_k=5)] == ["y"]
    assert await new.count(OWNER_A) == 0


async def test_erasing_the_user_row_erases_their_vectors(db_url: str, four_d: Database) -> None:
    index = PgVectorIndex(four_d, producer=PRODUCER, dimension=4)
    await index.upsert([rec("a", NEAR), rec("b", MID, owner=OWNER_B)])

    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (OWNER_A,))

    assert await index.count(OWNER_A) == 0
    assert await index.count(OWNER_B) == 1


async def test_vectors_of_an_unknown_owner_are_refused(four_d: Database) -> None:
    index = PgVectorIndex(four_d, producer=PRODUCER, dimension=4)

    with pytest.raises(VectorIndexError, match="foreign key"):
        await index.upsert([rec("x", NEAR, owner=uuid.uuid4())])


async def test_repeated_id_in_one_upsert_keeps_the_last(four_d: Database) -> None:
    index = PgVectorIndex(four_d, producer=PRODUCER, dimension=4)

    await index.upsert([rec("x", NEAR, streams=["first"]), rec("x", FAR, streams=["last"])])

    [hit] = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5)
    assert hit.metadata["stream_ids"] == ["last"]


def _random_unit(rng: random.Random) -> list[float]:
    values = [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIM)]
    norm = sum(v * v for v in values) ** 0.5
    return [v / norm for v in values]


def _exact_top(
    vectors: dict[str, list[float]], query: list[float], k: int
) -> list[tuple[str, float]]:
    scored = [
        (node, sum(a * b for a, b in zip(vec, query, strict=True))) for node, vec in vectors.items()
    ]
    return sorted(scored, key=lambda item: -item[1])[:k]


@pytest.fixture
async def big_owner(
    db_url: str, database: Database
) -> tuple[PgVectorIndex, dict[str, list[float]]]:
    """2,000 random 384-d vectors of one owner, every 100th in stream "rare"."""
    rng = random.Random(7)
    vectors = {f"n{i}": _random_unit(rng) for i in range(2000)}
    index = PgVectorIndex(database, producer=PRODUCER)
    await index.upsert(
        [
            VectorRecord(
                id=node,
                values=values,
                owner_id=OWNER_A,
                node_type="capture",
                stream_ids=["rare" if i % 100 == 0 else "common"],
            )
            for i, (node, values) in enumerate(vectors.items())
        ]
    )
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        conn.execute("ANALYZE embeddings")
    return index, vectors


async def test_large_owner_query_uses_the_hnsw_index(
    db_url: str, big_owner: tuple[PgVectorIndex, dict[str, list[float]]]
) -> None:
    index, vectors = big_owner
    query = vectors["n5"]

    with count_statements() as executed:
        hits = await index.query(owner_id=OWNER_A, vector=query, top_k=10)

    # Explain the very statement the index ran, with the same parameters.
    [knn] = [sql for sql in executed if "ORDER BY" in sql]
    params = {"owner_id": OWNER_A, "producer": PRODUCER, "vector": str(query), "top_k": 10}
    with psycopg.connect(libpq_url(db_url)) as conn:
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + knn, params))
    assert "Index Scan using embeddings_hnsw_cosine_idx" in plan, plan
    assert hits[0].id == "n5"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(hits) == 10


async def test_a_starved_approximate_scan_falls_back_to_exact(
    db_url: str, big_owner: tuple[PgVectorIndex, dict[str, list[float]]], database: Database
) -> None:
    index, vectors = big_owner
    # Steer the planner to the HNSW index (no sorts) and let its iterative scan
    # visit a single tuple: filtered on the rare stream it then comes back
    # short, and only the exact fallback finds the matches.
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        dbname = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{dbname}" SET hnsw.max_scan_tuples = 1')
        conn.execute(f'ALTER DATABASE "{dbname}" SET enable_sort = off')
    await database.engine.dispose()  # new connections pick up the setting
    rare = {node: vec for i, (node, vec) in enumerate(vectors.items()) if i % 100 == 0}
    query = vectors["n7"]

    ann_only = (
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
        " set_config('hnsw.ef_search', '100', true);"
        "SELECT count(*) FROM (SELECT 1 FROM embeddings WHERE owner_id = :o AND producer = :p"
        " AND stream_ids && ARRAY['rare'] ORDER BY embedding <=> CAST(:v AS vector) LIMIT 25) AS a"
    )
    async with database.transaction() as uow:
        for statement in ann_only.split(";"):
            result = await uow.execute(
                text(statement), {"o": OWNER_A, "p": PRODUCER, "v": str(query)}
            )
        approximate_count = result.scalar_one()

    hits = await index.query(owner_id=OWNER_A, vector=query, top_k=25, stream_ids=["rare"])

    # 20 vectors are in the rare stream: the approximate scan alone misses some.
    assert approximate_count < 20
    expected = _exact_top(rare, query, 25)
    assert len(expected) == 20
    assert [m.id for m in hits] == [node for node, _ in expected]
    assert hits[0].score == pytest.approx(expected[0][1], abs=1e-5)


async def test_query_many_is_one_statement_planned_like_a_single_query(
    db_url: str, big_owner: tuple[PgVectorIndex, dict[str, list[float]]]
) -> None:
    index, vectors = big_owner
    nodes = ["n5", "n7", "n9"]
    queries = [VectorQuery(vectors[n], 10, (n,)) for n in nodes]

    with count_statements() as executed:
        batched = await index.query_many(owner_id=OWNER_A, queries=queries)
    with count_statements() as single_run:
        await index.query(owner_id=OWNER_A, vector=vectors["n5"], top_k=10, exclude_ids=["n5"])

    # The owner's transaction, the HNSW tuning and one k-NN statement for all three.
    assert len(executed) == 3, executed
    [knn] = [sql for sql in executed if "ORDER BY" in sql]
    [single] = [sql for sql in single_run if "ORDER BY" in sql]
    many_params = {
        "owner_id": OWNER_A,
        "producer": PRODUCER,
        "vectors": [str(vectors[n]) for n in nodes],
        "top_k": 11,  # 10 and the excluded node itself
    }
    single_params = {
        "owner_id": OWNER_A,
        "producer": PRODUCER,
        "vector": str(vectors["n5"]),
        "top_k": 10,
        "exclude_ids": ["n5"],
    }
    with psycopg.connect(libpq_url(db_url)) as conn:
        for ef_search in ("40", "100", "1000"):
            conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (ef_search,))
            many_plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + knn, many_params))
            single_plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + single, single_params))
            # The per-row vector of the lateral is an ordering argument the HNSW
            # index accepts, and costs like the single query's constant: both
            # statements choose the same access path whatever the beam width.
            uses_hnsw = "Index Scan using embeddings_hnsw_cosine_idx"
            assert (uses_hnsw in many_plan) == (uses_hnsw in single_plan), (many_plan, single_plan)
            if ef_search == "40":
                assert uses_hnsw in many_plan, many_plan
                assert "Order By: (embedding <=> q.v)" in many_plan, many_plan
    for node, hits in zip(nodes, batched, strict=True):
        others = {n: v for n, v in vectors.items() if n != node}
        assert [m.id for m in hits] == [n for n, _ in _exact_top(others, vectors[node], 10)]


async def test_query_many_falls_back_to_exact_per_vector(
    db_url: str, big_owner: tuple[PgVectorIndex, dict[str, list[float]]], database: Database
) -> None:
    index, vectors = big_owner
    # As in the single-query test: a starved HNSW scan comes back short for
    # every vector, and each lateral falls back to its own exact scan.
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        dbname = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{dbname}" SET hnsw.max_scan_tuples = 1')
        conn.execute(f'ALTER DATABASE "{dbname}" SET enable_sort = off')
    await database.engine.dispose()  # new connections pick up the setting
    rare = {node: vec for i, (node, vec) in enumerate(vectors.items()) if i % 100 == 0}
    nodes = ["n7", "n100", "n1234"]

    with count_statements() as executed:
        hits = await index.query_many(
            owner_id=OWNER_A,
            queries=[VectorQuery(vectors[n], 25, (n,)) for n in nodes],
            stream_ids=["rare"],
        )

    [knn] = [sql for sql in executed if "ORDER BY" in sql]
    params = {
        "owner_id": OWNER_A,
        "producer": PRODUCER,
        "vectors": [str(vectors[n]) for n in nodes],
        "top_k": 26,
        "stream_ids": ["rare"],
    }
    with psycopg.connect(libpq_url(db_url)) as conn:
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + knn, params))
    assert "Index Scan using embeddings_hnsw_cosine_idx" in plan, plan
    for node, found in zip(nodes, hits, strict=True):
        expected = _exact_top({n: v for n, v in rare.items() if n != node}, vectors[node], 25)
        assert len(expected) == (19 if node == "n100" else 20)
        assert [m.id for m in found] == [n for n, _ in expected]


async def test_factory_picks_pgvector_without_pinecone_settings(database: Database) -> None:
    index = build_vector_index(make_settings(), database, producer=PRODUCER)

    assert isinstance(index, PgVectorIndex)
    assert index.producer == PRODUCER


async def test_factory_picks_pinecone_when_configured(database: Database) -> None:
    from lifeos_gql.infra.vectors.pinecone_index import PineconeIndex

    settings = make_settings(pinecone_api_key="pk-test", pinecone_index_host="http://127.0.0.1:9")
    index = build_vector_index(settings, database, producer=PRODUCER)

    assert isinstance(index, PineconeIndex)
    await index.aclose()
