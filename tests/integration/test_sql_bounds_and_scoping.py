"""Bounded SQL per query shape, stream-bound credentials, and Redis at start-up."""

from __future__ import annotations

import uuid

import pytest

from lifeos_gql.app import create_app
from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.errors import ConfigError
from lifeos_gql.db.engine import count_statements
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureDraft, IngestStatus
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import SourceKind
from tests.conftest import make_settings
from tests.helpers import dev_token, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { createdCount } }"
TIMELINE = """{ timeline(first: 100) { nodes { id title content stream { id name myRole owner { email } } } } }"""


async def _statements_for_timeline(client, token, items: int) -> int:
    stream = (await gql(client, CREATE, {"n": f"s{items}"}, token=token))["data"]["createStream"]
    inputs = [{"streamId": stream["id"], "content": f"{items}-{i}"} for i in range(items)]
    await gql(client, BATCH, {"i": inputs}, token=token)
    with count_statements() as statements:
        body = await gql(client, TIMELINE, token=token)
    assert not body.get("errors"), body
    return len(statements)


async def test_timeline_statements_do_not_grow_with_rows(client, settings):
    few = await _statements_for_timeline(
        client, dev_token(settings.lifeos_data_dir, "few@example.com"), 2
    )
    many = await _statements_for_timeline(
        client, dev_token(settings.lifeos_data_dir, "many@example.com"), 40
    )
    assert few == many, (few, many)
    assert many <= 6, many  # actor, page, key, streams+roles, myRole, owner


async def test_stream_bound_credential_cannot_reach_other_streams(client, settings):
    token = dev_token(settings.lifeos_data_dir, "owner@example.com")
    await gql(client, "{ me { id } }", token=token)  # provisions the user
    runtime = client.app.state.runtime
    owner = await runtime.authenticator.authenticate(f"Bearer {token}")
    async with runtime.db.transaction(owner.user_id) as uow:
        bound = await streams.create_stream(uow=uow, actor=owner, name="A", source=SourceKind.NOTE)
        other = await streams.create_stream(uow=uow, actor=owner, name="B", source=SourceKind.NOTE)
    token_actor = Actor(
        user_id=owner.user_id,
        scopes=frozenset({Scope.WRITE}),
        via="ingest-token",
        stream_id=bound.id,
    )
    async with runtime.db.transaction(owner.user_id) as uow:
        outcomes = await captures.ingest(
            uow=uow,
            actor=token_actor,
            crypto=runtime.capture_crypto,
            limits=runtime.capture_limits,
            drafts=[
                CaptureDraft(stream_id=bound.id, content="allowed"),
                CaptureDraft(stream_id=other.id, content="not allowed"),
            ],
        )
    assert [o.status for o in outcomes] == [IngestStatus.CREATED, IngestStatus.INVALID]
    assert outcomes[1].code == "NOT_FOUND"


async def test_app_uses_redis_when_configured(db_url, data_dir, redis_url):
    app = create_app(
        make_settings(database_url=db_url, lifeos_data_dir=data_dir, redis_url=redis_url)
    )
    async with app.router.lifespan_context(app):
        redis = app.state.runtime.redis
        assert redis is not None
        key = f"lifeos-test-{uuid.uuid4().hex}"
        await redis.set(key, "1", ex=30)
        assert await redis.get(key) == b"1"
        await redis.delete(key)


async def test_unreachable_redis_stops_start_up(db_url, data_dir):
    app = create_app(
        make_settings(
            database_url=db_url, lifeos_data_dir=data_dir, redis_url="redis://127.0.0.1:1/0"
        )
    )
    with pytest.raises(ConfigError, match="REDIS_URL"):
        async with app.router.lifespan_context(app):
            pass


NESTED = """{ me { streams(first: 10) { nodes { captures(first: 10) { nodes {
    insights { sources { id } }
    edges(first: 5) { to { id } }
} } } } } }"""


async def _statements(
    client, runtime, token: str, streams_n: int, per_stream: int, query: str
) -> tuple[int, dict]:
    """(statements, data) of ``query`` over ``streams_n`` analysed streams of ``per_stream``."""
    from tests.integration.test_graph_graphql import _analyse

    ids = []
    for s in range(streams_n):
        stream = (await gql(client, CREATE, {"n": f"s{s}"}, token=token))["data"]["createStream"]
        inputs = [
            {
                "streamId": stream["id"],
                "content": f"Met Jane Smith at Acme in Berlin, note {s}-{i}.",
            }
            for i in range(per_stream)
        ]
        body = await gql(
            client,
            "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }",
            {"i": inputs},
            token=token,
        )
        ids += [r["capture"]["id"] for r in body["data"]["captureBatch"]["results"]]
    owner = await runtime.authenticator.authenticate(f"Bearer {token}")
    from lifeos_gql.core.ids import decode_global_id

    await _analyse(runtime, owner, [decode_global_id(i).id for i in ids], related=True)
    with count_statements() as statements:
        body = await gql(client, query, token=token)
    assert not body.get("errors"), body
    return len(statements), body["data"]


async def _nested_statements(client, runtime, token: str, streams_n: int, per_stream: int) -> int:
    count, data = await _statements(client, runtime, token, streams_n, per_stream, NESTED)
    captures_seen = [c for s in data["me"]["streams"]["nodes"] for c in s["captures"]["nodes"]]
    assert len(captures_seen) == streams_n * per_stream
    assert any(c["edges"] for c in captures_seen) and any(c["insights"] for c in captures_seen)
    return count


async def test_nested_query_statements_bounded_by_shape(client, settings):
    runtime = client.app.state.runtime
    small = await _nested_statements(
        client, runtime, dev_token(settings.lifeos_data_dir, "small@example.com"), 2, 2
    )
    large = await _nested_statements(
        client, runtime, dev_token(settings.lifeos_data_dir, "large@example.com"), 10, 10
    )
    assert small == large, (small, large)
    assert large <= 20, large


STREAM_INSIGHTS = """{ me { streams(first: 10) { nodes { id
    insights(first: 3) { nodes { id sources { id } } pageInfo { hasNextPage } }
} } } }"""
ONE_STREAM = """query($id: ID!) { stream(id: $id) {
    insights(first: 3) { nodes { id sources { id } } pageInfo { hasNextPage } } } }"""


async def test_stream_insights_statements_bounded_by_shape(client, settings):
    """``Stream.insights`` pages go through one loader: 2 streams cost what 8 do."""
    runtime = client.app.state.runtime
    counts = []
    for n, email in ((2, "two@example.com"), (8, "eight@example.com")):
        token = dev_token(settings.lifeos_data_dir, email)
        count, data = await _statements(client, runtime, token, n, 2, STREAM_INSIGHTS)
        streams = data["me"]["streams"]["nodes"]
        assert len(streams) == n and all(s["insights"]["nodes"] for s in streams)
        # Batched pages equal the pages asked for one stream at a time.
        for stream in streams:
            alone = await gql(client, ONE_STREAM, {"id": stream["id"]}, token=token)
            assert alone["data"]["stream"]["insights"] == stream["insights"]
        counts.append(count)
    assert counts[0] == counts[1], counts


OWNERS_OWN = """{ me { streams(first: 10) { nodes { owner {
    apiTokens { id } shareLinks { id } personas { id } exports { id }
    auditLog(first: 2) { nodes { action } }
    streams(first: 2) { nodes { id } }
} } } } }"""


async def test_users_own_fields_fetched_once_per_request(client, settings):
    """The user's private lists are keyed by their arguments: reaching the same
    user through 2 or 8 streams costs the same statements, with equal answers."""
    counts = []
    for n, email in ((2, "two@example.com"), (8, "eight@example.com")):
        token = dev_token(settings.lifeos_data_dir, email)
        for s in range(n):
            assert "errors" not in await gql(client, CREATE, {"n": f"s{s}"}, token=token)
        with count_statements() as statements:
            body = await gql(client, OWNERS_OWN, token=token)
        assert not body.get("errors"), body
        owners = [s["owner"] for s in body["data"]["me"]["streams"]["nodes"]]
        assert len(owners) == n and all(o == owners[0] for o in owners)
        assert len(owners[0]["streams"]["nodes"]) == 2 and owners[0]["auditLog"]["nodes"]
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
