"""The fake Pinecone server itself: filter semantics, wire errors, SDK-parsable replies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pinecone import AsyncIndex

from tests.fakes.pinecone_server import FakePinecone, FakePineconeError, matches_filter

Post = Callable[..., httpx.Response]

META = {"genre": "drama", "tags": ["a", "b"], "year": 2020, "draft": False}


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"genre": "drama"}, True),
        ({"genre": {"$eq": "comedy"}}, False),
        ({"genre": {"$ne": "comedy"}}, True),
        ({"tags": {"$eq": "b"}}, True),  # a list field equals any of its elements
        ({"tags": {"$in": ["x", "a"]}}, True),
        ({"tags": {"$nin": ["a"]}}, False),
        ({"genre": {"$nin": ["comedy"]}}, True),
        ({"missing": {"$ne": "x"}}, True),
        ({"missing": {"$in": ["x"]}}, False),
        ({"year": {"$gt": 2019, "$lte": 2020}}, True),
        ({"year": {"$lt": 2020}}, False),
        ({"year": {"$gte": 2021}}, False),
        ({"genre": {"$gt": 1}}, False),  # comparisons only match numbers
        ({"draft": False}, True),
        ({"missing": {"$exists": False}}, True),
        ({"genre": "drama", "year": 1999}, False),  # side-by-side fields are AND-ed
        ({"$and": [{"genre": "drama"}, {"year": 2020}]}, True),
        ({"$or": [{"genre": "comedy"}, {"year": 2020}]}, True),
        ({"$or": [{"genre": "comedy"}, {"year": 1}]}, False),
    ],
)
def test_filter_semantics(flt: dict[str, Any], expected: bool) -> None:
    assert matches_filter(META, flt) is expected


@pytest.mark.parametrize(
    "flt",
    [{"genre": {"$regex": "d"}}, {"tags": {"$in": "a"}}, {"$or": []}, {"year": {"$gt": "x"}}],
)
def test_malformed_filters_are_rejected(flt: dict[str, Any]) -> None:
    with pytest.raises(FakePineconeError) as caught:
        matches_filter(META, flt)
    assert caught.value.status == 400


@pytest.fixture
def fake() -> Iterator[FakePinecone]:
    with FakePinecone(api_key="k", dimension=2) as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # verify=False: plain http on loopback, and it skips loading CA certificates.
    with httpx.Client(verify=False) as client:
        yield client


@pytest.fixture
def post(fake: FakePinecone, http: httpx.Client) -> Post:
    def send(path: str, body: Any, key: str = "k") -> httpx.Response:
        return http.post(f"{fake.host}{path}", json=body, headers={"Api-Key": key})

    return send


def test_rejects_a_missing_or_wrong_api_key(
    fake: FakePinecone, post: Post, http: httpx.Client
) -> None:
    response = post("/describe_index_stats", {}, key="wrong")
    keyless = http.post(f"{fake.host}/describe_index_stats", json={})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert keyless.status_code == 401


def test_validates_dimension_metadata_and_batch_limits(fake: FakePinecone, post: Post) -> None:
    def upsert(vectors: list[dict[str, Any]]) -> int:
        return post("/vectors/upsert", {"vectors": vectors}).status_code

    assert upsert([{"id": "a", "values": [1, 2, 3]}]) == 400
    assert upsert([{"id": "a", "values": [0, 0]}]) == 400
    assert upsert([{"id": "a", "values": [1, 0], "metadata": {"x": None}}]) == 400
    assert upsert([{"id": "a", "values": [1, 0], "metadata": {"x": {"y": 1}}}]) == 400
    assert upsert([{"id": str(i), "values": [1, 0]} for i in range(1001)]) == 400
    assert upsert([{"id": "a", "values": [1, 0], "metadata": {"x": ["s"]}}]) == 200
    assert list(fake.namespace("")) == ["a"]


def test_delete_in_unknown_namespace_is_404(fake: FakePinecone, post: Post) -> None:
    response = post("/vectors/delete", {"namespace": "nope", "deleteAll": True})

    assert response.status_code == 404


def test_injected_failures_carry_retry_after_and_then_stop(fake: FakePinecone, post: Post) -> None:
    fake.fail_next(1, status=429, retry_after=2, path="/query")

    stats = post("/describe_index_stats", {})
    first = post("/query", {"topK": 1, "vector": [1, 0]})
    second = post("/query", {"topK": 1, "vector": [1, 0]})

    assert stats.status_code == 200
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert second.status_code == 200
    assert [r.path for r in fake.requests] == ["/describe_index_stats", "/query", "/query"]


async def test_sdk_parses_fetch_query_and_stats_replies(fake: FakePinecone) -> None:
    index = AsyncIndex(host=fake.host, api_key="k")
    try:
        await index.upsert(
            vectors=[{"id": "v1", "values": [1.0, 0.0], "metadata": {"t": "x"}}], namespace="ns"
        )
        await index.upsert(vectors=[{"id": "v2", "values": [0.0, 1.0]}])
        fetched = await index.fetch(ids=["v1", "nope"], namespace="ns")
        queried = await index.query(
            top_k=1, vector=[1.0, 1.0], namespace="ns", include_values=True, include_metadata=True
        )
        stats = await index.describe_index_stats()
    finally:
        await index.close()

    assert set(fetched.vectors) == {"v1"}
    assert fetched.vectors["v1"].metadata == {"t": "x"}
    assert queried.matches[0].id == "v1"
    assert queried.matches[0].values == [1.0, 0.0]
    assert queried.matches[0].score == pytest.approx(0.70710678)
    assert queried.namespace == "ns"
    assert {n: s.vector_count for n, s in stats.namespaces.items()} == {"ns": 1, "__default__": 1}
    assert (stats.dimension, stats.total_vector_count) == (2, 2)
    assert fake.requests_to("/vectors/fetch")[0].query == {
        "ids": ["v1", "nope"],
        "namespace": ["ns"],
    }
