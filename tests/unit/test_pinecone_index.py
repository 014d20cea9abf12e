"""PineconeIndex through the real ``pinecone`` SDK against the local FakePinecone server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from pinecone._internal import http_client as pinecone_http

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.vectors.base import (
    TransientVectorError,
    VectorIndex,
    VectorIndexError,
    VectorQuery,
)
from lifeos_gql.infra.vectors.pinecone_index import PineconeIndex, owner_namespace
from tests.fakes.pinecone_server import FakePinecone
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

NS_A = owner_namespace(OWNER_A)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakePinecone]:
    with FakePinecone(dimension=4) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakePinecone) -> FakePinecone:
    fake_server.reset()
    return fake_server


@pytest.fixture(scope="module")
async def shared_index(fake_server: FakePinecone) -> AsyncIterator[PineconeIndex]:
    # One client for the module: the SDK spends ~0.2 s building each HTTP pool.
    index = PineconeIndex(fake_server.api_key, fake_server.host)
    yield index
    await index.aclose()


@pytest.fixture
def pinecone_index(fake: FakePinecone, shared_index: PineconeIndex) -> PineconeIndex:
    return shared_index


class TestPineconeContract(VectorIndexContract):
    @pytest.fixture
    async def index(self, pinecone_index: PineconeIndex) -> VectorIndex:
        return pinecone_index


async def test_upsert_250_records_sends_three_batches(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    records = [rec(f"n{i}", [1.0, float(i), 0.0, 0.0]) for i in range(250)]

    await pinecone_index.upsert(records)

    batches = fake.requests_to("/vectors/upsert")
    assert sorted(len(r.body["vectors"]) for r in batches) == [50, 100, 100]
    assert {r.body["namespace"] for r in batches} == {NS_A}
    assert len(fake.namespace(NS_A)) == 250
    assert await pinecone_index.count(OWNER_A) == 250


async def test_one_upsert_call_splits_by_owner_namespace(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    await pinecone_index.upsert([rec("a", NEAR), rec("b", MID, owner=OWNER_B), rec("a2", FAR)])

    sent = {r.body["namespace"]: [v["id"] for v in r.body["vectors"]] for r in fake.requests}
    assert sent == {NS_A: ["a", "a2"], owner_namespace(OWNER_B): ["b"]}


async def test_wire_metadata_uses_epoch_seconds_and_omits_unknown_dates(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    await pinecone_index.upsert(
        [
            rec("d", NEAR, streams=["s1", "s2"], node_type="insight", occurred_at=when),
            rec("u", MID),
        ]
    )

    stored = fake.namespace(NS_A)
    assert stored["d"].metadata == {
        "node_type": "insight",
        "stream_ids": ["s1", "s2"],
        "occurred_at": when.timestamp(),
    }
    assert "occurred_at" not in stored["u"].metadata


async def test_query_sends_pinecone_filter_and_over_fetches_for_exclusions(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    await pinecone_index.upsert([rec("x", NEAR)])
    fake.clear_requests()

    await pinecone_index.query(
        owner_id=OWNER_A,
        vector=QUERY,
        top_k=5,
        node_types=["insight", "capture"],
        stream_ids=["s2", "s1"],
        exclude_ids=["x", "y"],
    )

    (sent,) = fake.requests_to("/query")
    assert sent.body["namespace"] == NS_A
    assert sent.body["topK"] == 7
    assert sent.body["includeMetadata"] is True
    assert sent.body["filter"] == {
        "node_type": {"$in": ["capture", "insight"]},
        "stream_ids": {"$in": ["s1", "s2"]},
    }


async def test_query_many_sends_one_query_per_vector(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    await pinecone_index.upsert([rec("near", NEAR), rec("mid", MID), rec("far", FAR)])
    fake.clear_requests()
    queries = [VectorQuery(QUERY, 1, ("near",)), VectorQuery(FAR, 2), VectorQuery(MID, 3)]

    hits = await pinecone_index.query_many(owner_id=OWNER_A, queries=queries, stream_ids=["s1"])

    # No multi-vector query in Pinecone's data plane: one request each.
    sent = fake.requests_to("/query")
    assert sorted(r.body["topK"] for r in sent) == [2, 2, 3]
    assert {r.body["namespace"] for r in sent} == {NS_A}
    assert [[m.id for m in ms] for ms in hits] == [["mid"], ["far", "mid"], ["mid", "near", "far"]]


async def test_query_many_surfaces_one_mapped_error(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    fake.fail_next(1, status=400, path="/query")

    with pytest.raises(VectorIndexError, match="400") as caught:
        await pinecone_index.query_many(
            owner_id=OWNER_A, queries=[VectorQuery(QUERY, 1), VectorQuery(FAR, 1)]
        )

    assert not isinstance(caught.value, TransientVectorError)


async def test_empty_filter_sends_no_request(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    assert await pinecone_index.query(owner_id=OWNER_A, vector=QUERY, top_k=3, stream_ids=[]) == []
    assert fake.requests == []


async def test_delete_of_many_ids_is_chunked_by_1000(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    await pinecone_index.upsert([rec("keep", NEAR), rec("n5", MID)])
    fake.clear_requests()

    await pinecone_index.delete(owner_id=OWNER_A, ids=[f"n{i}" for i in range(2500)])

    assert sorted(len(r.body["ids"]) for r in fake.requests_to("/vectors/delete")) == [
        500,
        1000,
        1000,
    ]
    assert set(fake.namespace(NS_A)) == {"keep"}


async def test_delete_owner_sends_delete_all_in_owner_namespace(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    await pinecone_index.upsert([rec(f"n{i}", NEAR) for i in range(5)])

    await pinecone_index.delete_owner(OWNER_A)

    (sent,) = fake.requests_to("/vectors/delete")
    assert sent.body == {"namespace": NS_A, "deleteAll": True}
    assert fake.namespace(NS_A) == {}
    assert await pinecone_index.count(OWNER_A) == 0


async def test_rate_limit_after_sdk_retries_is_transient(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    # The SDK makes 1 attempt + 3 retries; Retry-After: 0 keeps its back-off instant.
    fake.fail_next(4, status=429, retry_after=0)

    with pytest.raises(TransientVectorError, match="429"):
        await pinecone_index.query(owner_id=OWNER_A, vector=QUERY, top_k=1)

    assert len(fake.requests_to("/query")) == 4


async def test_brief_server_errors_are_absorbed_by_sdk_retries(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    await pinecone_index.upsert([rec("x", NEAR)])
    fake.fail_next(2, status=503, retry_after=0)

    hits = await pinecone_index.query(owner_id=OWNER_A, vector=QUERY, top_k=1)

    assert [m.id for m in hits] == ["x"]
    assert len(fake.requests_to("/query")) == 3


async def test_failed_batch_surfaces_one_mapped_error(
    fake: FakePinecone, pinecone_index: PineconeIndex
) -> None:
    records = [rec(f"n{i}", NEAR) for i in range(250)]
    records[120] = rec("bad", [1.0, 2.0])  # wrong dimension lands in the second batch

    with pytest.raises(VectorIndexError, match="dimension") as caught:
        await pinecone_index.upsert(records)

    assert not isinstance(caught.value, TransientVectorError)


async def test_wrong_api_key_is_a_permanent_error(fake: FakePinecone) -> None:
    index = PineconeIndex("not-the-key", fake.host)
    try:
        with pytest.raises(VectorIndexError, match="401") as caught:
            await index.count(OWNER_A)
    finally:
        await index.aclose()

    assert not isinstance(caught.value, TransientVectorError)
    assert fake.requests[0].headers["api-key"] == "not-the-key"


async def test_unreachable_host_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_backoff(_delay: float) -> None:
        return None

    # The SDK exposes its back-off sleep as a patch seam; skip the real waits.
    monkeypatch.setattr(pinecone_http, "_async_retry_sleep", no_backoff)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    index = PineconeIndex("key", f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(TransientVectorError):
            await index.count(OWNER_A)
    finally:
        await index.aclose()


@pytest.mark.parametrize(
    ("api_key", "host", "batch_size"),
    [("", "http://127.0.0.1:1", 100), ("k", "nohost", 100), ("k", "http://127.0.0.1:1", 1001)],
)
def test_bad_configuration_is_a_config_error(api_key: str, host: str, batch_size: int) -> None:
    with pytest.raises(ConfigError):
        PineconeIndex(api_key, host, batch_size=batch_size)
