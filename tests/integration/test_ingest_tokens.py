"""Per-stream ingest tokens: GraphQL management, REST use, and their limits."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
import strawberry
from sqlalchemy import text
from starlette.requests import Request

from lifeos_gql.api.context import make_context
from lifeos_gql.api.resolvers.ingest_tokens import IngestTokenMutations
from lifeos_gql.api.resolvers.query import Query
from lifeos_gql.config import Settings
from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import Forbidden, NotFound, Unauthenticated
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.tokens import service as tokens
from lifeos_gql.domains.tokens.secret import INGEST_TOKEN_PREFIX
from tests.helpers import bearer
from tests.integration.test_rest_ingest import (
    captures_url,
    codes,
    count_captures,
    grant,
    load_capture,
    make_stream,
    runtime_of,
    sign_up,
)

# The lead merges IngestTokenMutations into Mutation; this schema holds just them.
SCHEMA = strawberry.Schema(query=Query, mutation=IngestTokenMutations)
CREATE = """
mutation($streamId: ID!, $name: String!, $expiresAt: DateTime) {
  createIngestToken(streamId: $streamId, name: $name, expiresAt: $expiresAt) {
    token id name streamId createdAt expiresAt
  }
}
"""
REVOKE = "mutation($id: ID!) { revokeIngestToken(id: $id) }"


async def run(client: Any, user_id: uuid.UUID, query: str, **variables: Any) -> Any:
    """Execute against ``SCHEMA`` as ``user_id``, with the app's real runtime."""
    request = Request({"type": "http", "method": "POST", "path": "/graphql", "headers": []})
    context = make_context(
        request=request,
        response=None,
        runtime=runtime_of(client),
        actor=Actor(user_id=user_id),
        request_id="test",
    )
    try:
        return await SCHEMA.execute(query, variable_values=variables, context_value=context)
    finally:
        await context.close()


def error_code(result: Any) -> str:
    assert result.errors, result
    code: str = result.errors[0].original_error.code
    return code


async def create(client: Any, user_id: uuid.UUID, stream_id: uuid.UUID, **extra: Any) -> Any:
    result = await run(
        client,
        user_id,
        CREATE,
        streamId=encode_global_id("Stream", stream_id),
        name=extra.pop("name", "Kitchen tablet"),
        **extra,
    )
    assert result.errors is None, result.errors
    return result.data["createIngestToken"]


@pytest.fixture
async def alice(client: Any, settings: Settings) -> tuple[str, uuid.UUID, uuid.UUID]:
    """Alice's JWT, her user id and a stream of hers."""
    jwt, user_id = await sign_up(client, settings, "alice@example.com")
    return jwt, user_id, await make_stream(client, user_id)


async def test_created_token_ingests_as_its_creator_and_only_its_hash_is_stored(
    client: Any, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    new = await create(client, alice_id, stream_id)
    secret = new["token"]
    assert secret.startswith(INGEST_TOKEN_PREFIX) and len(secret) == len(INGEST_TOKEN_PREFIX) + 43
    assert decode_global_id(new["streamId"]).id == stream_id
    assert new["name"] == "Kitchen tablet" and new["expiresAt"] is None

    response = await client.post(
        captures_url(stream_id), json={"content": "from the tablet"}, headers=bearer(secret)
    )
    assert response.status_code == 201, response.text
    record = await load_capture(client, alice_id, response.json()["results"][0]["id"])
    assert record.author_id == alice_id and record.content == "from the tablet"

    async with runtime_of(client).system_db.transaction() as uow:
        row = (
            await uow.execute(
                text("SELECT * FROM api_tokens WHERE id = :id"),
                {"id": decode_global_id(new["id"], expected="IngestToken").id},
            )
        ).one()
    assert bytes(row.token_hash) == hashlib.sha256(secret.encode()).digest()
    assert secret not in repr(tuple(row))  # the secret itself is nowhere in the row
    assert row.prefix == secret[: len(INGEST_TOKEN_PREFIX) + 6]
    assert row.scopes == ["write"] and row.owner_id == alice_id and row.last_used_at is not None


async def test_token_only_posts_captures_into_its_own_stream(
    client: Any, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    other_stream = await make_stream(client, alice_id, name="Other")
    secret = (await create(client, alice_id, stream_id))["token"]
    headers = bearer(secret)

    elsewhere = await client.post(
        captures_url(other_stream), json={"content": "x"}, headers=headers
    )
    assert elsewhere.status_code == 404 and codes(elsewhere) == ["NOT_FOUND"]
    missing = await client.post(captures_url(uuid.uuid4()), json={"content": "x"}, headers=headers)
    assert missing.status_code == 404
    graphql = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
    assert graphql.status_code == 403 and codes(graphql) == ["FORBIDDEN"]
    graphql_get = await client.get("/graphql", params={"query": "{ me { id } }"}, headers=headers)
    assert graphql_get.status_code == 403
    read_back = await client.get(captures_url(stream_id), headers=headers)
    assert read_back.status_code == 403
    spec = await client.get("/v1/openapi.json", headers=headers)
    assert spec.status_code == 403
    assert await count_captures(client, other_stream) == 0


async def test_revoked_token_is_401(client: Any, alice: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    _jwt, alice_id, stream_id = alice
    new = await create(client, alice_id, stream_id)
    url, headers = captures_url(stream_id), bearer(new["token"])
    assert (await client.post(url, json={"content": "before"}, headers=headers)).status_code == 201

    first = await run(client, alice_id, REVOKE, id=new["id"])
    assert first.errors is None and first.data == {"revokeIngestToken": True}
    second = await run(client, alice_id, REVOKE, id=new["id"])
    assert second.data == {"revokeIngestToken": False}

    after = await client.post(url, json={"content": "after"}, headers=headers)
    assert after.status_code == 401 and codes(after) == ["UNAUTHENTICATED"]
    assert after.headers["www-authenticate"].startswith("Bearer")
    assert await count_captures(client, stream_id) == 1


async def test_expired_unknown_and_malformed_tokens_are_401(
    client: Any, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    new = await create(client, alice_id, stream_id, expiresAt=soon)
    assert new["expiresAt"] is not None
    url = captures_url(stream_id)
    assert (
        await client.post(url, json={"content": "in time"}, headers=bearer(new["token"]))
    ).status_code == 201
    async with runtime_of(client).system_db.transaction() as uow:
        await uow.execute(
            text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": decode_global_id(new["id"]).id},
        )
    late = await client.post(url, json={"content": "late"}, headers=bearer(new["token"]))
    assert late.status_code == 401

    for bogus in (
        INGEST_TOKEN_PREFIX + "A" * 43,
        INGEST_TOKEN_PREFIX + "short",
        new["token"] + "x",
    ):
        response = await client.post(url, json={"content": "x"}, headers=bearer(bogus))
        assert response.status_code == 401, bogus

    past = await run(
        client,
        alice_id,
        CREATE,
        streamId=encode_global_id("Stream", stream_id),
        name="old",
        expiresAt=(utcnow() - timedelta(minutes=1)).isoformat(),
    )
    assert error_code(past) == "BAD_USER_INPUT"


async def test_token_follows_its_creators_current_role(
    client: Any, settings: Settings, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    _bob_jwt, bob_id = await sign_up(client, settings, "bob@example.com")
    await grant(client, stream_id, bob_id, "COLLABORATOR")
    secret = (await create(client, bob_id, stream_id))["token"]
    url, headers = captures_url(stream_id), bearer(secret)
    ok = await client.post(url, json={"content": "bob's device"}, headers=headers)
    assert ok.status_code == 201
    record = await load_capture(client, alice_id, ok.json()["results"][0]["id"])
    assert record.author_id == bob_id and record.owner_id == alice_id

    await grant(client, stream_id, bob_id, "VIEWER")
    demoted = await client.post(url, json={"content": "now a viewer"}, headers=headers)
    assert demoted.status_code == 403 and codes(demoted) == ["FORBIDDEN"]
    await grant(client, stream_id, bob_id, None)
    removed = await client.post(url, json={"content": "no access"}, headers=headers)
    assert removed.status_code == 404
    assert await count_captures(client, stream_id) == 1


async def test_who_may_create_and_revoke(
    client: Any, settings: Settings, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    _v, viewer_id = await sign_up(client, settings, "viewer@example.com")
    _c, collaborator_id = await sign_up(client, settings, "collab@example.com")
    _s, stranger_id = await sign_up(client, settings, "stranger@example.com")
    await grant(client, stream_id, viewer_id, "VIEWER")
    await grant(client, stream_id, collaborator_id, "COLLABORATOR")
    stream_ref = encode_global_id("Stream", stream_id)

    as_viewer = await run(client, viewer_id, CREATE, streamId=stream_ref, name="n")
    assert error_code(as_viewer) == "FORBIDDEN"
    as_stranger = await run(client, stranger_id, CREATE, streamId=stream_ref, name="n")
    assert error_code(as_stranger) == "NOT_FOUND"
    blank = await run(client, alice_id, CREATE, streamId=stream_ref, name="   ")
    assert error_code(blank) == "BAD_USER_INPUT"

    collaborators = await create(client, collaborator_id, stream_id)
    for outsider in (stranger_id, viewer_id):
        refused = await run(client, outsider, REVOKE, id=collaborators["id"])
        assert error_code(refused) == "NOT_FOUND"
    by_owner = await run(client, alice_id, REVOKE, id=collaborators["id"])
    assert by_owner.data == {"revokeIngestToken": True}
    unknown = await run(client, alice_id, REVOKE, id=encode_global_id("IngestToken", uuid.uuid4()))
    assert error_code(unknown) == "NOT_FOUND"

    async with runtime_of(client).system_db.transaction() as uow:
        rows = (
            await uow.execute(
                text(
                    "SELECT action, actor, details::text AS details FROM audit_log"
                    " WHERE action LIKE 'ingest_token.%' ORDER BY id"
                )
            )
        ).all()
        # Audit rows name people by pseudonym, never by user id.
        aliases = await audit.pseudonyms_for(uow, [collaborator_id, alice_id])
    assert [(r.action, r.actor) for r in rows] == [
        ("ingest_token.create", aliases[collaborator_id]),
        ("ingest_token.revoke", aliases[alice_id]),
    ]
    assert collaborators["token"] not in rows[0].details


async def test_token_credentials_cannot_mint_tokens(
    client: Any, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    token_actor = Actor(
        user_id=alice_id, scopes=frozenset({Scope.WRITE}), via="ingest-token", stream_id=stream_id
    )
    async with runtime_of(client).db.transaction(alice_id) as uow:
        with pytest.raises(Forbidden):
            await tokens.create_ingest_token(
                uow=uow, actor=token_actor, stream_id=stream_id, name="chain"
            )
        with pytest.raises(NotFound):
            await tokens.revoke_token(uow=uow, actor=Actor(user_id=alice_id), token_id=uuid.uuid4())


async def test_last_used_at_is_written_at_most_once_a_minute(
    client: Any, alice: tuple[str, uuid.UUID, uuid.UUID]
) -> None:
    _jwt, alice_id, stream_id = alice
    db, system = runtime_of(client).db, runtime_of(client).system_db
    async with db.transaction(alice_id) as uow:
        row, secret = await tokens.create_ingest_token(
            uow=uow, actor=Actor(user_id=alice_id), stream_id=stream_id, name="watch"
        )
    assert row.last_used_at is None
    start = utcnow()
    seen = []
    for offset in (0, 30, 59, 61, 90):
        async with system.transaction() as uow:
            await tokens.resolve_ingest_token(
                uow=uow, token=secret, now=start + timedelta(seconds=offset)
            )
        async with system.transaction() as uow:
            seen.append((await tokens.resolve_ingest_token(uow=uow, token=secret)).last_used_at)
    moments = [start + timedelta(seconds=s) for s in (0, 0, 0, 61, 61)]
    assert seen == moments

    async with system.transaction() as uow:
        with pytest.raises(Unauthenticated):
            await tokens.resolve_ingest_token(uow=uow, token=secret.upper())
