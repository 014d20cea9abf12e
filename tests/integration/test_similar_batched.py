"""``Capture.similar`` through its per-request loader: cost bounded by the query's shape.

A real analysis (real embedder) fills the vector index; Alice reads her own
two streams and one stream Bob shares with her, so the vector index is
searched for two owners. Runs on pgvector and on Pinecone (the real SDK
against the local fake server).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.db.engine import count_statements
from lifeos_gql.db.uow import RequestReader
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.search import service as search
from lifeos_gql.jobs import pipeline
from lifeos_gql.jobs.services import open_analysis_services
from lifeos_gql.runtime import Runtime
from tests.conftest import make_settings
from tests.fakes.pinecone_server import FakePinecone
from tests.integration.privacy_world import (
    app_client,
    new_stream,
    ok,
    rows,
    runtime_of,
    share,
    sign_in,
)

ALICE, BOB = "alice@example.org", "bob@example.org"
JOURNAL = [
    "Met Dr. Jane Smith in Berlin to plan the garden project; compost starts in March.",
    "My dog loves running through the park every morning before breakfast.",
    "Quarterly tax return filed; the accountant says we owe less than last year.",
    "Planted tomatoes and basil in the raised beds behind the garage.",
    "The vet says the dog needs a lighter diet and longer walks.",
    "Booked train tickets to Munich for the conference in October.",
]
WORK = [
    "Kitchen renovation: the compost bin goes under the sink, says Jane Smith.",
    "Sprint review: the search team shipped hybrid ranking with reciprocal rank fusion.",
    "Budget meeting moved to Thursday; finance wants the forecast by Friday.",
    "Interviewed a backend engineer who knows Postgres internals very well.",
    "The office garden needs watering while the facilities team is away.",
    "Customer call: they want an export of every invoice from last year.",
]
BOB_SHARED = [
    "The compost heap behind my shed is far too wet this week.",
    "Walked the neighbour's dog along the river at dawn.",
    "Tax advisor recommends filing the return before the end of May.",
]
BOB_PRIVATE = ["Secret plan: surprise garden party with compost-themed cake for Jane."]

SIMILAR = """query($n: Int!) { timeline(first: $n) {
  nodes { id a: similar(first: 3) { id } b: similar(first: 5) { id } } } }"""
PLAIN = "query($n: Int!) { timeline(first: $n) { nodes { id } } }"


@dataclass
class World:
    client: Any
    runtime: Runtime
    alice: str
    bob: str
    bob_shared: list[uuid.UUID]
    bob_private: list[uuid.UUID]
    bob_private_stream: uuid.UUID
    pinecone: FakePinecone | None


@pytest.fixture
def pinecone() -> Iterator[FakePinecone]:
    with FakePinecone() as fake:
        yield fake


async def _ingest(client: Any, token: str, stream: str, texts: list[str]) -> list[uuid.UUID]:
    batch = (
        "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
    )
    data = await ok(client, batch, token, i=[{"streamId": stream, "content": t} for t in texts])
    return [decode_global_id(r["capture"]["id"]).id for r in data["captureBatch"]["results"]]


@pytest.fixture(params=["pgvector", "pinecone"])
async def world(
    request: pytest.FixtureRequest, db_url: str, data_dir: Path
) -> AsyncIterator[World]:
    extra: dict[str, Any] = {}
    fake: FakePinecone | None = None
    if request.param == "pinecone":
        fake = request.getfixturevalue("pinecone")
        extra = {"pinecone_api_key": fake.api_key, "pinecone_index_host": fake.host}
    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir, **extra)
    async with app_client(settings) as client:
        runtime = runtime_of(client)
        alice, _ = await sign_in(client, settings, ALICE)
        bob, _ = await sign_in(client, settings, BOB)
        journal = await new_stream(client, alice, "Journal")
        work = await new_stream(client, alice, "Work")
        shared = await new_stream(client, bob, "Shared with Alice")
        private = await new_stream(client, bob, "Private")
        await share(client, bob, shared, ALICE, "VIEWER")
        ids = await _ingest(client, alice, journal, JOURNAL)
        ids += await _ingest(client, alice, work, WORK)
        bob_shared = await _ingest(client, bob, shared, BOB_SHARED)
        bob_private = await _ingest(client, bob, private, BOB_PRIVATE)
        everything = [*ids, *bob_shared, *bob_private]
        async with open_analysis_services(runtime) as services:
            outcome = await pipeline.analyse(services, everything)
        assert len(outcome.done) == len(everything), outcome.summary()
        yield World(
            client,
            runtime,
            alice,
            bob,
            bob_shared,
            bob_private,
            decode_global_id(private).id,
            fake,
        )


async def _timeline_similar(world: World, token: str, n: int) -> list[dict[str, Any]]:
    data = await ok(world.client, SIMILAR, token, n=n)
    nodes: list[dict[str, Any]] = data["timeline"]["nodes"]
    assert len(nodes) == n
    return nodes


async def test_statements_do_not_grow_with_the_captures(world: World) -> None:
    await _timeline_similar(world, world.alice, 2)  # warm the user and key caches
    with count_statements() as plain_small:
        await ok(world.client, PLAIN, world.alice, n=2)
    with count_statements() as small:
        await _timeline_similar(world, world.alice, 2)
    if world.pinecone is not None:
        world.pinecone.clear_requests()
    with count_statements() as large:
        await _timeline_similar(world, world.alice, 10)

    assert len(small) == len(large), (small, large)
    # The two similar() fields of every capture together add: the readable
    # streams (1); per owner of readable streams (Alice, Bob), on pgvector's
    # own connection, the owner's transaction actor, the HNSW tuning and the
    # batched k-NN (2 x 3); the visibility of all candidates (1); and the
    # similar captures' records (captures + roles, 2).
    vector_statements = 2 * 3 if world.pinecone is None else 0
    assert len(large) - len(plain_small) == 1 + vector_statements + 1 + 2, large
    knn = [s for s in large if "CROSS JOIN LATERAL" in s]
    assert len(knn) == (2 if world.pinecone is None else 0)
    if world.pinecone is not None:
        # Pinecone has no multi-vector query: one request per capture and
        # owner (10 x 2, in parallel); a capture's two similar() fields share
        # theirs, as wide as the widest plus the capture itself.
        queries = world.pinecone.requests_to("/query")
        assert len(queries) == 10 * 2
        assert {q.body["topK"] for q in queries} == {5 + 1}


async def _reference(world: World, token: str, capture_id: uuid.UUID, first: int) -> list[str]:
    """What the per-capture ``similar_captures`` (the resolver's former path) answers."""
    runtime = world.runtime
    actor = await runtime.authenticator.authenticate(f"Bearer {token}")
    reader = RequestReader(runtime.db, actor.user_id)
    try:
        async with reader.use() as uow:
            found = await captures.captures_by_ids(
                uow=uow, actor=actor, crypto=runtime.capture_crypto, ids=[capture_id]
            )
            ids = await search.similar_captures(
                uow=uow,
                actor=actor,
                embedder=runtime.embedder,
                vectors=runtime.vectors,
                capture=found[capture_id],
                first=first,
            )
    finally:
        await reader.close()
    return [str(i) for i in ids]


@pytest.mark.parametrize("reader", ["alice", "bob"])
async def test_answers_equal_the_per_capture_search(world: World, reader: str) -> None:
    # Bob moves his compost note out of the shared stream; the vector index
    # still files it under the shared stream, so for Alice it is a candidate
    # that only the visibility check removes.
    await rows(
        world.runtime,
        "UPDATE captures SET stream_id = :private WHERE id = :moved",
        private=world.bob_private_stream,
        moved=world.bob_shared[0],
    )
    token = world.alice if reader == "alice" else world.bob
    visible = 14 if reader == "alice" else 4
    nodes = await _timeline_similar(world, token, visible)

    for node in nodes:
        capture_id = decode_global_id(node["id"]).id
        a = [decode_global_id(c["id"]).id for c in node["a"]]
        b = [decode_global_id(c["id"]).id for c in node["b"]]
        assert [str(i) for i in a] == await _reference(world, token, capture_id, 3)
        assert [str(i) for i in b] == await _reference(world, token, capture_id, 5)
        assert len(b) == 5 if reader == "alice" else len(b) == 3
        assert b[:3] == a
        assert capture_id not in b
        if reader == "alice":
            hidden = {*world.bob_private, world.bob_shared[0]}
            assert not set(b) & hidden  # Bob's private stream stays hidden
