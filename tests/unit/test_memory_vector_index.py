"""The VectorIndex contract, run here against InMemoryVectorIndex.

``VectorIndexContract`` holds the behaviour every implementation must share;
other implementations' test modules subclass it and provide an ``index``
fixture (4-dimensional, empty).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from lifeos_gql.infra.vectors.base import (
    VectorIndex,
    VectorIndexError,
    VectorQuery,
    VectorRecord,
)
from lifeos_gql.infra.vectors.memory_index import InMemoryVectorIndex

OWNER_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OWNER_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def rec(
    id: str,
    values: Sequence[float],
    *,
    owner: uuid.UUID = OWNER_A,
    node_type: str = "capture",
    streams: Sequence[str] = ("s1",),
    occurred_at: datetime | None = None,
) -> VectorRecord:
    return VectorRecord(
        id=id,
        values=list(values),
        owner_id=owner,
        node_type=node_type,
        stream_ids=list(streams),
        occurred_at=occurred_at,
    )


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


# Vectors at growing angles from QUERY, so the expected ranking is near, mid, far.
QUERY = [1.0, 0.0, 0.0, 0.0]
NEAR = [0.9, 0.1, 0.0, 0.0]
MID = [0.5, 0.5, 0.0, 0.0]
FAR = [0.1, 0.9, 0.2, 0.0]
OPPOSITE = [-1.0, 0.0, 0.0, 0.0]


class VectorIndexContract:
    """Semantics shared by every VectorIndex; subclasses provide the ``index`` fixture."""

    async def test_ranks_nearest_first_with_cosine_scores(self, index: VectorIndex) -> None:
        await index.upsert(
            [rec("far", FAR), rec("near", NEAR), rec("opp", OPPOSITE), rec("mid", MID)]
        )

        matches = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=3)

        assert [m.id for m in matches] == ["near", "mid", "far"]
        assert matches[0].score == pytest.approx(cosine(QUERY, NEAR), abs=1e-6)
        assert matches[2].score == pytest.approx(cosine(QUERY, FAR), abs=1e-6)

    async def test_filters_by_node_type(self, index: VectorIndex) -> None:
        await index.upsert(
            [
                rec("c", NEAR, node_type="capture"),
                rec("i", MID, node_type="insight"),
                rec("k", FAR, node_type="concept"),
            ]
        )

        hits = await index.query(
            owner_id=OWNER_A, vector=QUERY, top_k=10, node_types=["insight", "concept"]
        )

        assert [m.id for m in hits] == ["i", "k"]
        assert {m.metadata["node_type"] for m in hits} == {"insight", "concept"}

    async def test_stream_filter_matches_any_of_a_nodes_streams(self, index: VectorIndex) -> None:
        await index.upsert(
            [
                rec("one", NEAR, streams=["s1"]),
                rec("both", MID, streams=["s2", "s3"]),
                rec("none", FAR, streams=[]),
            ]
        )

        hits = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=10, stream_ids=["s3", "s9"])
        combined = await index.query(
            owner_id=OWNER_A,
            vector=QUERY,
            top_k=10,
            stream_ids=["s1", "s2"],
            node_types=["insight"],
        )

        assert [m.id for m in hits] == ["both"]
        assert hits[0].metadata["stream_ids"] == ["s2", "s3"]
        assert combined == []

    async def test_empty_filter_lists_match_nothing(self, index: VectorIndex) -> None:
        await index.upsert([rec("x", NEAR)])

        assert await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5, node_types=[]) == []
        assert await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5, stream_ids=[]) == []

    async def test_owners_never_see_each_others_vectors(self, index: VectorIndex) -> None:
        await index.upsert([rec("a1", NEAR), rec("b1", QUERY, owner=OWNER_B)])

        a_hits = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=10)
        b_hits = await index.query(owner_id=OWNER_B, vector=QUERY, top_k=10)

        assert [m.id for m in a_hits] == ["a1"]
        assert [m.id for m in b_hits] == ["b1"]
        assert await index.count(OWNER_A) == 1

    async def test_excluded_ids_do_not_use_up_top_k(self, index: VectorIndex) -> None:
        await index.upsert(
            [rec("self", QUERY), rec("near", NEAR), rec("mid", MID), rec("far", FAR)]
        )

        hits = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=2, exclude_ids=["self"])

        assert [m.id for m in hits] == ["near", "mid"]

    async def test_metadata_round_trips_occurred_at_as_aware_utc(self, index: VectorIndex) -> None:
        when = datetime(2024, 5, 17, 8, 30, 15, tzinfo=UTC)
        await index.upsert([rec("dated", NEAR, occurred_at=when), rec("undated", MID)])

        hits = {m.id: m for m in await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5)}

        assert hits["dated"].metadata["occurred_at"] == when
        assert hits["undated"].metadata["occurred_at"] is None

    async def test_upsert_replaces_values_and_metadata(self, index: VectorIndex) -> None:
        await index.upsert([rec("x", NEAR, streams=["old"]), rec("y", MID)])
        await index.upsert([rec("x", OPPOSITE, streams=["new"], node_type="insight")])

        hits = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5)

        assert [m.id for m in hits] == ["y", "x"]
        assert hits[1].metadata["stream_ids"] == ["new"]
        assert hits[1].metadata["node_type"] == "insight"
        assert await index.count(OWNER_A) == 2

    async def test_delete_removes_only_given_ids(self, index: VectorIndex) -> None:
        await index.upsert([rec("x", NEAR), rec("y", MID), rec("z", FAR)])

        await index.delete(owner_id=OWNER_A, ids=["x", "missing"])
        await index.delete(owner_id=OWNER_B, ids=["y"])  # another owner's delete touches nothing

        hits = await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5)
        assert [m.id for m in hits] == ["y", "z"]
        assert await index.count(OWNER_A) == 2

    async def test_delete_owner_erases_only_that_owner(self, index: VectorIndex) -> None:
        await index.upsert([rec("a1", NEAR), rec("a2", MID), rec("b1", NEAR, owner=OWNER_B)])

        await index.delete_owner(OWNER_A)
        await index.delete_owner(OWNER_A)  # erasing again is not an error

        assert await index.count(OWNER_A) == 0
        assert await index.query(owner_id=OWNER_A, vector=QUERY, top_k=5) == []
        assert await index.count(OWNER_B) == 1

    async def test_count_of_unknown_owner_is_zero(self, index: VectorIndex) -> None:
        assert await index.count(uuid.uuid4()) == 0

    async def test_dimension_mismatch_is_rejected(self, index: VectorIndex) -> None:
        await index.upsert([rec("x", NEAR)])

        with pytest.raises(VectorIndexError):
            await index.upsert([rec("bad", [1.0, 2.0])])
        with pytest.raises(VectorIndexError):
            await index.query(owner_id=OWNER_A, vector=[1.0, 0.0], top_k=1)

    async def test_zero_vector_is_rejected(self, index: VectorIndex) -> None:
        with pytest.raises(VectorIndexError):
            await index.upsert([rec("zero", [0.0, 0.0, 0.0, 0.0])])

    async def test_top_k_below_one_is_a_programming_error(self, index: VectorIndex) -> None:
        with pytest.raises(ValueError, match="top_k"):
            await index.query(owner_id=OWNER_A, vector=QUERY, top_k=0)

    async def test_query_many_answers_as_one_query_per_vector(self, index: VectorIndex) -> None:
        await index.upsert(
            [
                rec("self", QUERY),
                rec("near", NEAR),
                rec("mid", MID, streams=["s2"]),
                rec("far", FAR, streams=["s1", "s2"]),
                rec("opp", OPPOSITE),
                rec("idea", [0.4, 0.4, 0.3, 0.0], node_type="insight"),
                rec("other", QUERY, owner=OWNER_B),
            ]
        )
        queries = [
            VectorQuery(QUERY, 2, ("self",)),
            VectorQuery(FAR, 3),
            VectorQuery(OPPOSITE, 1, ("opp", "missing")),
            VectorQuery(QUERY, 5, ("self",)),
        ]
        filters: list[dict[str, list[str] | None]] = [
            {"node_types": None, "stream_ids": None},
            {"node_types": ["capture"], "stream_ids": ["s1", "s2"]},
            {"node_types": ["capture", "insight"], "stream_ids": ["s2"]},
        ]

        for flt in filters:
            batched = await index.query_many(owner_id=OWNER_A, queries=queries, **flt)
            one_by_one = [
                await index.query(
                    owner_id=OWNER_A,
                    vector=q.vector,
                    top_k=q.top_k,
                    exclude_ids=q.exclude_ids,
                    **flt,
                )
                for q in queries
            ]
            assert [[m.id for m in ms] for ms in batched] == [
                [m.id for m in ms] for ms in one_by_one
            ], flt
            for got, want in zip(batched, one_by_one, strict=True):
                assert [m.score for m in got] == pytest.approx([m.score for m in want], abs=1e-6)
                assert [m.metadata for m in got] == [m.metadata for m in want]
        first = await index.query_many(owner_id=OWNER_A, queries=queries)
        assert [m.id for m in first[0]] == ["near", "mid"]  # self excluded, top_k kept
        assert [m.id for m in first[3]] == ["near", "mid", "idea", "far", "opp"]  # all but self
        assert all(m.id != "other" for ms in first for m in ms)  # never another owner's

    async def test_query_many_of_nothing_or_with_empty_filters(self, index: VectorIndex) -> None:
        await index.upsert([rec("x", NEAR)])
        two = [VectorQuery(QUERY, 1), VectorQuery(FAR, 1)]

        assert await index.query_many(owner_id=OWNER_A, queries=[]) == []
        assert await index.query_many(owner_id=OWNER_A, queries=two, stream_ids=[]) == [[], []]
        assert await index.query_many(owner_id=OWNER_A, queries=two, node_types=[]) == [[], []]
        assert await index.query_many(owner_id=OWNER_B, queries=two) == [[], []]

    async def test_query_many_rejects_what_query_rejects(self, index: VectorIndex) -> None:
        await index.upsert([rec("x", NEAR)])

        with pytest.raises(ValueError, match="top_k"):
            await index.query_many(
                owner_id=OWNER_A, queries=[VectorQuery(QUERY, 1), VectorQuery(QUERY, 0)]
            )
        with pytest.raises(VectorIndexError):
            await index.query_many(
                owner_id=OWNER_A, queries=[VectorQuery(QUERY, 1), VectorQuery([1.0, 0.0], 1)]
            )


class TestInMemoryVectorIndex(VectorIndexContract):
    @pytest.fixture
    async def index(self) -> AsyncIterator[VectorIndex]:
        index = InMemoryVectorIndex(dimension=4)
        yield index
        await index.aclose()

    async def test_first_upsert_fixes_the_dimension(self) -> None:
        index = InMemoryVectorIndex()
        await index.upsert([rec("x", [1.0, 2.0, 3.0])])

        assert index.dimension == 3
        with pytest.raises(VectorIndexError, match="dimension 4"):
            await index.upsert([rec("y", NEAR)])

    async def test_invalid_batch_writes_nothing(self) -> None:
        index = InMemoryVectorIndex(dimension=4)

        with pytest.raises(VectorIndexError):
            await index.upsert([rec("ok", NEAR), rec("bad", [1.0])])

        assert await index.count(OWNER_A) == 0


def test_record_rejects_unknown_node_type() -> None:
    with pytest.raises(ValueError, match="node_type"):
        rec("x", NEAR, node_type="person")
