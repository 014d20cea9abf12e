"""GDPR erasure: after ``eraseMyAccount`` nothing in any table, index or cache refers to the user.

Alice fills every corner LifeOS has (streams, encrypted captures carrying a
canary string, analysis results, embeddings, events, grants both ways, a
capture and a link in Bob's stream, tokens, idempotency keys, exports,
queued jobs, a Redis key), erases her account, and then every row of every
table in the database (procrastinate's included), cast to text, is searched
for her id, her email and the canary; the vector index (pgvector, or the
Pinecone path against a local fake) is searched for her vectors; the audit
chains still verify; Bob's own data is untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.privacy import service as privacy
from lifeos_gql.domains.privacy.models import TableCount
from lifeos_gql.infra.vectors.base import VectorRecord
from lifeos_gql.infra.vectors.pinecone_index import owner_namespace
from tests.conftest import make_settings
from tests.fakes.pinecone_server import FakePinecone
from tests.helpers import bearer, error_codes, gql
from tests.integration.privacy_world import (
    app_client,
    capture,
    new_stream,
    ok,
    rows,
    run_jobs,
    runtime_of,
    share,
    sign_in,
)

CANARY = "Zorblaxian4471"
ALICE, BOB = "alice@example.org", "bob@example.org"
ERASE = """
mutation($c: String!) {
  eraseMyAccount(confirm: $c) { erasedAt pseudonym digest vectorIndexPurged counts { table rows } }
}
"""


@dataclass
class World:
    client: Any
    pinecone: FakePinecone | None
    redis_url: str


@pytest.fixture
def pinecone() -> Iterator[FakePinecone]:
    with FakePinecone() as fake:
        yield fake


@pytest.fixture(params=["pgvector", "pinecone"])
async def world(
    request: pytest.FixtureRequest, db_url: str, data_dir: Path, redis_url: str
) -> AsyncIterator[World]:
    extra: dict[str, Any] = {}
    fake: FakePinecone | None = None
    if request.param == "pinecone":
        fake = request.getfixturevalue("pinecone")
        extra = {"pinecone_api_key": fake.api_key, "pinecone_index_host": fake.host}
    settings = make_settings(
        database_url=db_url, lifeos_data_dir=data_dir, redis_url=redis_url, **extra
    )
    async with app_client(settings) as client:
        client.settings = settings  # type: ignore[attr-defined]
        yield World(client, fake, redis_url)


async def scan(runtime: Any, needles: list[str]) -> dict[str, list[str]]:
    """Every row of every table in every schema, as text, that contains a needle (any case)."""
    tables = await rows(
        runtime,
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE'"
        " AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    assert len(tables) > 15
    patterns = [f"%{n}%" for n in needles]
    hits: dict[str, list[str]] = {}
    for t in tables:
        found = await rows(
            runtime,
            f'SELECT CAST(x AS text) AS row FROM "{t.table_schema}"."{t.table_name}" x'
            " WHERE CAST(x AS text) ILIKE ANY(CAST(:p AS text[]))",
            p=patterns,
        )
        if found:
            hits[f"{t.table_schema}.{t.table_name}"] = [f.row for f in found]
    return hits


async def count(runtime: Any, sql: str, **params: Any) -> int:
    return int((await rows(runtime, sql, **params))[0][0])


async def test_erasure_leaves_nothing_of_the_user_anywhere(world: World) -> None:
    client, settings = world.client, world.client.settings
    runtime = runtime_of(client)
    alice_token, alice = await sign_in(client, settings, ALICE)
    bob_token, bob = await sign_in(client, settings, BOB)

    # Alice's own data, every capture carrying the canary.
    journal = await new_stream(client, alice_token, f"Journal {CANARY}")
    own = [
        await capture(
            client,
            alice_token,
            journal,
            f"Met Sarah Chen from Acme Robotics in Berlin; {CANARY} robot arm pilot.",
            title=f"Berlin {CANARY}",
        ),
        await capture(
            client,
            alice_token,
            journal,
            f"Sarah Chen sent the Acme Robotics budget for the {CANARY} pilot.",
            data={"note": CANARY},
        ),
        await capture(client, alice_token, journal, f"Long run along the river, {CANARY}."),
    ]
    # Bob's stream, shared with Alice, who adds a capture and a link to it.
    team = await new_stream(client, bob_token, "Team")
    bobs = [
        await capture(client, bob_token, team, "Tom Okafor found a flat in Lisbon."),
        await capture(client, bob_token, team, "Dinner with Tom Okafor about moving to Lisbon."),
    ]
    await share(client, bob_token, team, ALICE, "COLLABORATOR")
    await share(client, alice_token, journal, BOB, "VIEWER")
    alice_in_team = await capture(
        client, alice_token, team, f"Tom Okafor and {CANARY} Ventures plan a Lisbon office."
    )
    later = await new_stream(client, bob_token, "Later")
    # A pending invitation to Alice's address (as if sent before she signed up).
    await rows(
        runtime,
        "INSERT INTO grants (owner_id, stream_id, grantee_email, role)"
        " VALUES (:o, :s, :e, 'VIEWER')",
        o=bob,
        s=decode_global_id(later).id,
        e=ALICE.upper(),
    )
    await run_jobs(runtime, ["analysis"])
    await ok(
        client,
        'mutation($f: ID!, $t: ID!) { linkNodes(from: $f, to: $t, relation: "REMINDS_OF") { id } }',
        alice_token,
        f=encode_global_id("Capture", bobs[0]),
        t=encode_global_id("Capture", bobs[1]),
    )
    api = await ok(
        client,
        'mutation { createApiToken(name: "cli", scopes: [READ, WRITE]) { token } }',
        alice_token,
    )
    api_token = api["createApiToken"]["token"]
    for stream in (journal, team):
        await ok(
            client,
            'mutation($s: ID!) { createIngestToken(streamId: $s, name: "phone") { id } }',
            alice_token,
            s=stream,
        )
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: CaptureInput!) { capture(input: $i) { capture { id } } }",
            "variables": {"i": {"streamId": journal, "content": f"Retried {CANARY} note"}},
        },
        headers={**bearer(alice_token), "Idempotency-Key": f"retry-{CANARY}"},
    )
    assert response.status_code == 200 and "errors" not in response.json()
    await ok(client, "mutation { exportMyData { id } }", alice_token)
    await run_jobs(runtime, ["exports", "analysis"])
    # Left queued on purpose: jobs naming her data must go too.
    await ok(client, "mutation { exportMyData { id } }", alice_token)
    await ok(
        client,
        "mutation($ids: [ID!]!) { requestAnalysis(captureIds: $ids) { id } }",
        alice_token,
        ids=[encode_global_id("Capture", i) for i in own],
    )
    cache = aioredis.Redis.from_url(world.redis_url)
    await cache.set(f"lifeos:test:ratelimit:{alice}", 1, ex=600)
    await cache.set(f"lifeos:test:ratelimit:{bob}", 1, ex=600)

    needles = [str(alice), ALICE, CANARY]
    before = await scan(runtime, needles)
    # The scan can see what it looks for: her id, email and the canary are all there.
    present = ["public.users", "public.captures", "public.exports", "public.audit_pseudonyms"]
    if world.pinecone is None:  # pgvector keeps the vectors in the primary store
        present.append("public.embeddings")
    for table in present:
        assert table in before, sorted(before)
    assert any(CANARY.lower() in row.lower() for row in before["public.captures"])  # tsvector
    assert (
        await count(runtime, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") >= 2
    )
    expected = {
        "captures": await count(
            runtime, "SELECT count(*) FROM captures WHERE owner_id = :u OR author_id = :u", u=alice
        ),
        "streams": 1,
        "data_keys": 1,
        "users": 1,
        "exports": 2,
        "api_tokens": 3,
        "grants": 3,  # she gave Bob one, Bob gave her one, and the invitation
    }
    if world.pinecone is not None:
        assert world.pinecone.namespace(owner_namespace(alice))
        assert str(alice_in_team) in world.pinecone.namespace(owner_namespace(bob))

    # Wrong confirmation, or an API token: refused, nothing erased.
    wrong = await gql(client, ERASE, {"c": "ERASE bob@example.org"}, token=alice_token)
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    by_token = await gql(client, ERASE, {"c": f"ERASE {ALICE}"}, token=api_token)
    assert error_codes(by_token) == ["FORBIDDEN"]
    assert await count(runtime, "SELECT count(*) FROM users WHERE id = :u", u=alice) == 1

    body = await gql(client, ERASE, {"c": "ERASE  Alice@Example.org "}, token=alice_token)
    assert "errors" not in body, body
    receipt = body["data"]["eraseMyAccount"]
    counts = {c["table"]: c["rows"] for c in receipt["counts"]}
    for table, rows_expected in expected.items():
        assert counts[table] == rows_expected, (table, counts)
    assert counts["audit_pseudonyms"] == 1 and counts["idempotency_keys"] == 1
    assert counts["insights"] >= 1 and counts["edges"] >= 1 and counts["concepts"] >= 1
    assert (world.pinecone is not None) or counts["embeddings"] >= 1
    assert counts["procrastinate_jobs"] >= 2
    assert receipt["vectorIndexPurged"] is True
    canonical = privacy.canonical_receipt(
        receipt["pseudonym"],
        datetime.fromisoformat(receipt["erasedAt"]),
        [TableCount(t, n) for t, n in counts.items()],
    )
    assert hashlib.sha256(canonical).hexdigest() == receipt["digest"]
    erased = await rows(
        runtime, "SELECT chain_id, details FROM audit_log WHERE action = 'account.erased'"
    )
    assert len(erased) == 1
    assert erased[0].chain_id == audit.chain_of(receipt["pseudonym"])
    assert erased[0].details["digest"] == receipt["digest"]

    # Nothing, anywhere, refers to her.
    assert await scan(runtime, needles) == {}
    gone = [str(i) for i in [*own, alice_in_team]]
    assert (
        await count(runtime, "SELECT count(*) FROM embeddings WHERE node_id = ANY(:ids)", ids=gone)
        == 0
    )
    leftover_jobs = await rows(runtime, "SELECT args FROM procrastinate_jobs")
    assert not [j for j in leftover_jobs if set(j.args.get("capture_ids", [])) & set(gone)]
    if world.pinecone is not None:
        assert world.pinecone.namespace(owner_namespace(alice)) == {}
        assert not set(world.pinecone.namespace(owner_namespace(bob))) & set(gone)
        assert {str(i) for i in bobs} <= set(world.pinecone.namespace(owner_namespace(bob)))
    assert await cache.exists(f"lifeos:test:ratelimit:{alice}") == 0
    assert await cache.exists(f"lifeos:test:ratelimit:{bob}") == 1
    await cache.delete(f"lifeos:test:ratelimit:{bob}")
    await cache.aclose()

    # The audit trail is intact and still verifies.
    reports = [r async for r in audit.verify_chains(runtime.system_db)]
    assert reports and all(r.ok for r in reports), [r for r in reports if not r.ok]

    # Bob's own data is intact: his stream, his captures (readable), their insights.
    team_view = await ok(
        client,
        "query($s: ID!) { stream(id: $s) { name captures { nodes { id content insights { id } } } } }",
        bob_token,
        s=team,
    )
    nodes = team_view["stream"]["captures"]["nodes"]
    assert sorted(decode_global_id(n["id"]).id for n in nodes) == sorted(bobs)
    assert all(n["content"] and "Lisbon" in n["content"] for n in nodes)
    assert all(n["insights"] for n in nodes)
    assert (await ok(client, "query($s: ID!) { stream(id: $s) { id } }", bob_token, s=journal))[
        "stream"
    ] is None
    assert await count(runtime, "SELECT count(*) FROM data_keys WHERE owner_id = :u", u=bob) == 1

    # Her old session token now signs in to a new, empty account (nothing cached points back).
    again = await ok(client, "{ me { id streams { nodes { id } } } }", alice_token)
    assert decode_global_id(again["me"]["id"]).id != alice
    assert again["me"]["streams"]["nodes"] == []


async def test_erasure_is_all_or_nothing_and_needs_a_session(world: World) -> None:
    client, settings = world.client, world.client.settings
    runtime = runtime_of(client)
    body = await gql(client, ERASE, {"c": "ERASE nobody@example.org"})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    token, alice = await sign_in(client, settings, ALICE)
    journal = await new_stream(client, token, "Journal")
    await capture(client, token, journal, f"{CANARY} note")
    for attempt in ("", "ERASE", "erase alice@example.org", f"ERASE {alice}", "DELETE alice"):
        refused = await gql(client, ERASE, {"c": attempt}, token=token)
        assert error_codes(refused) == ["BAD_USER_INPUT"], attempt
    assert await count(runtime, "SELECT count(*) FROM captures WHERE owner_id = :u", u=alice) == 1
    assert await count(runtime, "SELECT count(*) FROM data_keys WHERE owner_id = :u", u=alice) == 1
    assert not await rows(runtime, "SELECT 1 FROM audit_log WHERE action = 'account.erased'")


async def wait_until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` (bounded): the erasure runs as a task of its own."""
    deadline = time.monotonic() + 30.0
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_vectors_written_late_by_a_running_analysis_are_purged_too(
    db_url: str, data_dir: Path, redis_url: str, pinecone: FakePinecone
) -> None:
    settings = make_settings(
        database_url=db_url,
        lifeos_data_dir=data_dir,
        pinecone_api_key=pinecone.api_key,
        pinecone_index_host=pinecone.host,
    )
    async with app_client(settings) as client:
        runtime = runtime_of(client)
        token, alice = await sign_in(client, settings, ALICE)
        journal = await new_stream(client, token, "Journal")
        note = await capture(client, token, journal, f"{CANARY} note")
        # An analysis run already under way on her capture (it decrypted it
        # before her key was shredded and will upsert its vector afterwards).
        job = await rows(
            runtime,
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status)"
            " VALUES ('analysis', 'lifeos.analyse_captures',"
            " jsonb_build_object('capture_ids', jsonb_build_array(CAST(:c AS text))), 'doing')"
            " RETURNING id",
            c=str(note),
        )
        erasing = asyncio.create_task(gql(client, ERASE, {"c": f"ERASE {ALICE}"}, token=token))

        async def first_purge_done() -> bool:
            return any(
                r.body.get("namespace") == owner_namespace(alice)
                for r in pinecone.requests_to("/vectors/delete")
            )

        await wait_until(first_purge_done, "the first vector purge")
        assert not erasing.done()  # held until the running job ends
        assert runtime.vectors is not None
        await runtime.vectors.upsert(
            [
                VectorRecord(
                    id=str(note),
                    values=[1.0, 0.5, 0.25],
                    owner_id=alice,
                    node_type="capture",
                    stream_ids=[str(decode_global_id(journal).id)],
                )
            ]
        )
        assert pinecone.namespace(owner_namespace(alice))
        await rows(
            runtime, "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = :j", j=job[0].id
        )
        body = await erasing
        assert "errors" not in body, body
        assert body["data"]["eraseMyAccount"]["vectorIndexPurged"] is True
        assert pinecone.namespace(owner_namespace(alice)) == {}
        # The running job was left to finish, not deleted under it.
        assert await rows(runtime, "SELECT 1 FROM procrastinate_jobs WHERE id = :j", j=job[0].id)
