"""The app in-process over HTTP: health, readiness, me, node, errors."""

from __future__ import annotations

from lifeos_gql.core.ids import decode_global_id, encode_global_id
from tests.helpers import bearer, dev_token, error_codes, gql

ME = "{ me { id email name createdAt } }"


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["revision"] == client.app.state.runtime.migration_head


async def test_anonymous_me_is_null(client):
    body = await gql(client, ME)
    assert body == {"data": {"me": None}}


async def test_token_provisions_user_once(client, settings):
    token = dev_token(settings.lifeos_data_dir, "alice@example.com", "Alice")
    first = await gql(client, ME, token=token)
    second = await gql(client, ME, token=token)
    me = first["data"]["me"]
    assert me["email"] == "alice@example.com"
    assert me["name"] == "Alice"
    assert second["data"]["me"]["id"] == me["id"]
    assert decode_global_id(me["id"]).type_name == "User"


async def test_node_returns_self_and_hides_others(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    alice_id = (await gql(client, ME, token=alice))["data"]["me"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on User { email } } }"
    own = await gql(client, query, {"id": alice_id}, token=alice)
    assert own["data"]["node"] == {"id": alice_id, "email": "alice@example.com"}
    other = await gql(client, query, {"id": alice_id}, token=bob)
    assert other == {"data": {"node": None}}
    import uuid

    missing = encode_global_id("User", uuid.uuid4())
    assert (await gql(client, query, {"id": missing}, token=alice))["data"]["node"] is None


async def test_malformed_id_is_bad_user_input(client, settings):
    token = dev_token(settings.lifeos_data_dir, "ids@example.com")
    body = await gql(client, '{ node(id: "not-an-id") { id } }', token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    unknown_type = encode_global_id("Nope", __import__("uuid").uuid4())
    query = "query($id: ID!) { node(id: $id) { id } }"
    body = await gql(client, query, {"id": unknown_type}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    # Anonymous callers learn nothing about ids: they must sign in first.
    assert error_codes(await gql(client, '{ node(id: "not-an-id") { id } }')) == ["UNAUTHENTICATED"]


async def test_bad_token_is_401_json(client):
    for header in ("Bearer nonsense", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer "):
        response = await client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": header}
        )
        assert response.status_code == 401, header
        assert response.headers["content-type"] == "application/json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_request_id_is_echoed_when_sane(client):
    response = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await client.get("/healthz", headers={"X-Request-Id": "bad id;drop"})
    assert response.headers["x-request-id"] != "bad id;drop"
    assert len(response.headers["x-request-id"]) == 32


async def test_graphql_get_query(client, settings):
    token = dev_token(settings.lifeos_data_dir, "get@example.com")
    response = await client.get("/graphql", params={"query": ME}, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["data"]["me"]["email"] == "get@example.com"


async def test_mutation_over_get_refused(client):
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code in (400, 405)


async def test_dev_jwks_is_served(client, settings):
    from lifeos_gql.infra.auth.dev_issuer import DevIssuer

    jwks = (await client.get("/.well-known/dev-jwks.json")).json()
    assert jwks == DevIssuer.load_or_create(settings.lifeos_data_dir).jwks()
    assert all("d" not in key for key in jwks["keys"])  # public parts only
