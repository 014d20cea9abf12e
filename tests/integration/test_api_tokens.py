"""API (personal access) tokens: shown once, hashed, scoped, revocable, last used."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from lifeos_gql.config import Settings
from lifeos_gql.core.actor import Scope
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import Unauthenticated
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.tokens.secret import API_TOKEN_PREFIX, INGEST_TOKEN_PREFIX
from tests.helpers import bearer, error_codes, gql
from tests.integration.test_rest_ingest import captures_url, codes, make_stream, runtime_of, sign_up

CREATE = """
mutation($name: String!, $scopes: [Scope!]!, $expiresAt: DateTime) {
  createApiToken(name: $name, scopes: $scopes, expiresAt: $expiresAt) {
    token
    apiToken { id name prefix scopes createdAt expiresAt revokedAt lastUsedAt }
  }
}
"""
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) }"
LIST = "{ me { apiTokens { id name prefix scopes createdAt expiresAt revokedAt lastUsedAt } } }"
CREATE_STREAM = 'mutation { createStream(input: {name: "Via token", source: NOTE}) { id } }'


async def create_token(
    client: Any, jwt: str, scopes: list[str], name: str = "Zapier", **extra: Any
) -> dict[str, Any]:
    body = await gql(client, CREATE, {"name": name, "scopes": scopes, **extra}, token=jwt)
    assert "errors" not in body, body
    created: dict[str, Any] = body["data"]["createApiToken"]
    return created


async def token_row(client: Any, global_id: str) -> Any:
    async with runtime_of(client).system_db.transaction() as uow:
        return (
            await uow.execute(
                text("SELECT * FROM api_tokens WHERE id = :id"),
                {"id": decode_global_id(global_id, expected="ApiToken").id},
            )
        ).one()


async def count_captures(client: Any, stream_id: uuid.UUID) -> int:
    async with runtime_of(client).system_db.transaction() as uow:
        result = await uow.execute(
            text("SELECT count(*) FROM captures WHERE stream_id = :s"), {"s": stream_id}
        )
        return int(result.scalar_one())


def reason(body: dict[str, Any]) -> str | None:
    found: str | None = body["errors"][0]["extensions"].get("reason")
    return found


@pytest.fixture
async def alice(client: Any, settings: Settings) -> tuple[str, uuid.UUID]:
    return await sign_up(client, settings, "alice@example.com")


async def test_secret_is_shown_once_and_only_its_hash_is_stored(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, alice_id = alice
    created = await create_token(client, jwt, ["READ", "SUBSCRIBE"], name="  Grafana  board ")
    secret, token = created["token"], created["apiToken"]
    assert secret.startswith(API_TOKEN_PREFIX) and len(secret) == len(API_TOKEN_PREFIX) + 43
    assert token["name"] == "Grafana board" and token["scopes"] == ["READ", "SUBSCRIBE"]
    assert token["prefix"] == secret[: len(API_TOKEN_PREFIX) + 6]
    assert token["revokedAt"] is None and token["lastUsedAt"] is None

    row = await token_row(client, token["id"])
    assert bytes(row.token_hash) == hashlib.sha256(secret.encode()).digest()
    assert secret not in repr(tuple(row))
    assert row.owner_id == alice_id and row.stream_id is None
    assert sorted(row.scopes) == ["read", "subscribe"]

    # Listed without the secret, and the type has no field that could carry it.
    listed = (await gql(client, LIST, token=jwt))["data"]["me"]["apiTokens"]
    assert listed == [token]
    asked = await gql(client, "{ me { apiTokens { token } } }", token=jwt)
    assert error_codes(asked) == ["GRAPHQL_VALIDATION_FAILED"]

    async with runtime_of(client).system_db.transaction() as uow:
        audit = (
            await uow.execute(
                text(
                    "SELECT action, target_id, details::text AS details FROM audit_log"
                    " WHERE action LIKE 'api_token.%'"
                )
            )
        ).all()
    assert [(a.action, a.target_id) for a in audit] == [
        ("api_token.create", str(decode_global_id(token["id"]).id))
    ]
    assert secret not in audit[0].details and "Grafana" not in audit[0].details


async def test_read_only_token_reads_but_cannot_write(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, alice_id = alice
    stream_id = await make_stream(client, alice_id)
    secret = (await create_token(client, jwt, ["READ"]))["token"]

    me = await gql(client, "{ me { id email } }", token=secret)
    assert decode_global_id(me["data"]["me"]["id"]).id == alice_id
    assert me["data"]["me"]["email"] == "alice@example.com"

    mutation = await gql(client, CREATE_STREAM, token=secret)
    assert error_codes(mutation) == ["FORBIDDEN"] and reason(mutation) == "missing_scope"
    assert mutation["data"] is None

    posted = await client.post(
        captures_url(stream_id), json={"content": "from a tool"}, headers=bearer(secret)
    )
    assert posted.status_code == 403 and codes(posted) == ["FORBIDDEN"]
    assert posted.json()["errors"][0]["extensions"]["reason"] == "missing_scope"
    assert await count_captures(client, stream_id) == 0
    async with runtime_of(client).system_db.transaction() as uow:
        streams = await uow.execute(text("SELECT count(*) FROM streams WHERE name = 'Via token'"))
        assert streams.scalar_one() == 0


async def test_write_only_token_writes_but_cannot_read(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, alice_id = alice
    stream_id = await make_stream(client, alice_id)
    secret = (await create_token(client, jwt, ["WRITE"]))["token"]

    query = await gql(client, "{ me { id } }", token=secret)
    assert error_codes(query) == ["FORBIDDEN"] and reason(query) == "missing_scope"
    assert query["errors"][0]["extensions"]["scope"] == "READ"
    created = await gql(client, CREATE_STREAM, token=secret)
    assert "errors" not in created, created
    posted = await client.post(
        captures_url(stream_id), json={"content": "from a tool"}, headers=bearer(secret)
    )
    assert posted.status_code == 201, posted.text
    assert await count_captures(client, stream_id) == 1


async def test_tokens_cannot_manage_tokens(client: Any, alice: tuple[str, uuid.UUID]) -> None:
    jwt, alice_id = alice
    stream_ref = encode_global_id("Stream", await make_stream(client, alice_id))
    created = await create_token(client, jwt, ["READ", "WRITE", "SUBSCRIBE"])
    secret = created["token"]

    minted = await gql(client, CREATE, {"name": "child", "scopes": ["READ"]}, token=secret)
    assert error_codes(minted) == ["FORBIDDEN"]
    revoked = await gql(client, REVOKE, {"id": created["apiToken"]["id"]}, token=secret)
    assert error_codes(revoked) == ["FORBIDDEN"]
    ingest = await gql(
        client,
        'mutation($s: ID!) { createIngestToken(streamId: $s, name: "x") { token } }',
        {"s": stream_ref},
        token=secret,
    )
    assert error_codes(ingest) == ["FORBIDDEN"]
    async with runtime_of(client).system_db.transaction() as uow:
        count = await uow.execute(text("SELECT count(*) FROM api_tokens"))
        assert count.scalar_one() == 1


async def test_bad_input_is_refused(client: Any, alice: tuple[str, uuid.UUID]) -> None:
    jwt, _ = alice
    no_scopes = await gql(client, CREATE, {"name": "x", "scopes": []}, token=jwt)
    assert error_codes(no_scopes) == ["BAD_USER_INPUT"]
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    expired = await gql(
        client, CREATE, {"name": "x", "scopes": ["READ"], "expiresAt": past}, token=jwt
    )
    assert error_codes(expired) == ["BAD_USER_INPUT"]
    blank = await gql(client, CREATE, {"name": " ", "scopes": ["READ"]}, token=jwt)
    assert error_codes(blank) == ["BAD_USER_INPUT"]
    anonymous = await gql(client, CREATE, {"name": "x", "scopes": ["READ"]})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_revoked_token_is_401_on_its_next_request(
    client: Any, settings: Settings, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, _ = alice
    created = await create_token(client, jwt, ["READ"])
    secret, token_id = created["token"], created["apiToken"]["id"]
    assert "errors" not in await gql(client, "{ me { id } }", token=secret)

    bob_jwt, _ = await sign_up(client, settings, "bob@example.com")
    by_bob = await gql(client, REVOKE, {"id": token_id}, token=bob_jwt)
    assert error_codes(by_bob) == ["NOT_FOUND"]
    assert "errors" not in await gql(client, "{ me { id } }", token=secret)

    first = await gql(client, REVOKE, {"id": token_id}, token=jwt)
    assert first["data"] == {"revokeApiToken": True}
    after = await gql(client, "{ me { id } }", token=secret, expect_status=401)
    assert error_codes(after) == ["UNAUTHENTICATED"]
    again = await gql(client, REVOKE, {"id": token_id}, token=jwt)
    assert again["data"] == {"revokeApiToken": False}
    [listed] = (await gql(client, LIST, token=jwt))["data"]["me"]["apiTokens"]
    assert listed["revokedAt"] is not None


async def test_expired_unknown_and_malformed_tokens_are_401(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, _ = alice
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    created = await create_token(client, jwt, ["READ"], expiresAt=soon)
    secret = created["token"]
    assert created["apiToken"]["expiresAt"] is not None
    assert "errors" not in await gql(client, "{ me { id } }", token=secret)
    async with runtime_of(client).system_db.transaction() as uow:
        await uow.execute(
            text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": decode_global_id(created["apiToken"]["id"]).id},
        )
    late = await gql(client, "{ me { id } }", token=secret, expect_status=401)
    assert error_codes(late) == ["UNAUTHENTICATED"]

    for bogus in (API_TOKEN_PREFIX + "A" * 43, API_TOKEN_PREFIX + "short", secret + "x"):
        response = await client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers=bearer(bogus)
        )
        assert response.status_code == 401, bogus
        assert codes(response) == ["UNAUTHENTICATED"]


async def test_ingest_token_is_never_taken_for_an_api_token(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    """Both kinds share the table; an ingest token's id or secret is not an API token."""
    jwt, alice_id = alice
    stream_ref = encode_global_id("Stream", await make_stream(client, alice_id))
    ingest = await gql(
        client,
        'mutation($s: ID!) { createIngestToken(streamId: $s, name: "x") { id token } }',
        {"s": stream_ref},
        token=jwt,
    )
    made = ingest["data"]["createIngestToken"]
    assert made["token"].startswith(INGEST_TOKEN_PREFIX)
    assert (await gql(client, LIST, token=jwt))["data"]["me"]["apiTokens"] == []
    as_api_id = encode_global_id("ApiToken", decode_global_id(made["id"]).id)
    refused = await gql(client, REVOKE, {"id": as_api_id}, token=jwt)
    assert error_codes(refused) == ["NOT_FOUND"]
    forged = API_TOKEN_PREFIX + made["token"].removeprefix(INGEST_TOKEN_PREFIX)
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers=bearer(forged)
    )
    assert response.status_code == 401


async def test_last_used_at_moves_at_most_once_a_minute(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, _ = alice
    created = await create_token(client, jwt, ["READ"])
    secret, token_id = created["token"], created["apiToken"]["id"]
    assert (await token_row(client, token_id)).last_used_at is None

    await gql(client, "{ me { id } }", token=secret)
    first = (await token_row(client, token_id)).last_used_at
    assert first is not None
    await gql(client, "{ me { id } }", token=secret)
    assert (await token_row(client, token_id)).last_used_at == first  # throttled

    async with runtime_of(client).system_db.transaction() as uow:
        await uow.execute(
            text(
                "UPDATE api_tokens SET last_used_at = last_used_at - interval '5 minutes'"
                " WHERE id = :id"
            ),
            {"id": decode_global_id(token_id).id},
        )
    await gql(client, "{ me { id } }", token=secret)
    moved = (await token_row(client, token_id)).last_used_at
    assert moved > first
    [listed] = (await gql(client, LIST, token=jwt))["data"]["me"]["apiTokens"]
    assert listed["lastUsedAt"] == moved.isoformat()


async def test_authenticator_gives_the_websocket_layer_a_scoped_actor(
    client: Any, alice: tuple[str, uuid.UUID]
) -> None:
    jwt, alice_id = alice
    expires = utcnow() + timedelta(days=3)
    created = await create_token(client, jwt, ["SUBSCRIBE"], expiresAt=expires.isoformat())
    authenticator = runtime_of(client).authenticator
    actor = await authenticator.authenticate(f"Bearer {created['token']}")
    assert actor.user_id == alice_id and actor.via == "api-token"
    assert actor.scopes == frozenset({Scope.SUBSCRIBE})
    assert actor.token_id == decode_global_id(created["apiToken"]["id"]).id
    assert actor.expires_at == expires

    await gql(client, REVOKE, {"id": created["apiToken"]["id"]}, token=jwt)
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(f"Bearer {created['token']}")
