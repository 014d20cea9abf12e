"""Share links: read-only URLs to one node that work without an account.

What a link shows follows its creator's visibility at access time; every
way a link can fail answers the same 404.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from lifeos_gql.config import Settings
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from tests.conftest import make_settings
from tests.helpers import dev_token, error_codes, gql
from tests.integration.test_graph_graphql import TEXTS, _analyse

PUBLIC_URL = "https://lifeos.example.org/app"
CREATE_STREAM = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
CREATE_LINK = """
mutation($node: ID!, $expiresIn: Int) {
  createShareLink(nodeId: $node, expiresIn: $expiresIn) {
    url shareLink { id nodeId createdAt expiresAt revokedAt lastUsedAt }
  }
}
"""
CREATE_LINK_DEFAULT = """
mutation($node: ID!) { createShareLink(nodeId: $node) { url shareLink { id expiresAt } } }
"""
REVOKE = "mutation($id: ID!) { revokeShareLink(id: $id) }"
LIST = "{ me { shareLinks { id nodeId expiresAt revokedAt lastUsedAt } } }"


@pytest.fixture
def settings(db_url: str, data_dir: Any) -> Settings:
    return make_settings(
        database_url=db_url, lifeos_data_dir=data_dir, lifeos_public_url=PUBLIC_URL
    )


class World:
    """Alice, who owns the streams, and Bob."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
        self.bob = dev_token(settings.lifeos_data_dir, "bob@example.com")

    @property
    def runtime(self) -> Any:
        return self.client.app.state.runtime

    async def stream(self, name: str) -> str:
        body = await gql(self.client, CREATE_STREAM, {"n": name}, token=self.alice)
        stream_id: str = body["data"]["createStream"]["id"]
        return stream_id

    async def capture(self, stream: str, content: str, title: str | None = None) -> str:
        item = {"streamId": stream, "content": content, "title": title}
        body = await gql(self.client, BATCH, {"i": [item]}, token=self.alice)
        capture_id: str = body["data"]["captureBatch"]["results"][0]["capture"]["id"]
        return capture_id

    async def user_id(self, token: str) -> uuid.UUID:
        body = await gql(self.client, "{ me { id } }", token=token)
        return decode_global_id(body["data"]["me"]["id"]).id

    async def grant(self, stream: str, token: str, role: str | None) -> None:
        """Give the user behind ``token`` a role on ``stream`` (None removes it)."""
        grantee = await self.user_id(token)
        stream_id = decode_global_id(stream).id
        async with self.runtime.system_db.transaction() as uow:
            await uow.execute(
                text("DELETE FROM grants WHERE stream_id = :s AND grantee_id = :u"),
                {"s": stream_id, "u": grantee},
            )
            if role is not None:
                await uow.execute(
                    text(
                        "INSERT INTO grants (owner_id, stream_id, grantee_id, role)"
                        " SELECT owner_id, id, :u, :r FROM streams WHERE id = :s"
                    ),
                    {"s": stream_id, "u": grantee, "r": role},
                )

    async def link(self, node: str, token: str, expires_in: int | None = None) -> dict[str, Any]:
        body = await gql(
            self.client, CREATE_LINK, {"node": node, "expiresIn": expires_in}, token=token
        )
        assert "errors" not in body, body
        created: dict[str, Any] = body["data"]["createShareLink"]
        return created

    async def open(self, url: str) -> httpx.Response:
        """GET the link as a stranger would: no Authorization header at all."""
        assert url.startswith(PUBLIC_URL + "/v1/share/"), url
        response: httpx.Response = await self.client.get(url.removeprefix(PUBLIC_URL))
        assert "authorization" not in response.request.headers
        return response

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.runtime.system_db.transaction() as uow:
            result = await uow.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


@pytest.fixture
def world(client: Any, settings: Settings) -> World:
    return World(client, settings)


def not_found_shape(response: httpx.Response) -> Any:
    """The 404 body without its request id (which differs on every request)."""
    assert response.status_code == 404, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    for error in body["errors"]:
        error["extensions"].pop("requestId")
    return body


async def test_capture_link_works_without_an_account_until_revoked(world: World) -> None:
    journal = await world.stream("Journal")
    capture = await world.capture(journal, "We chose the blue door.", title="House")
    created = await world.link(capture, world.alice)
    url, link = created["url"], created["shareLink"]
    token = url.rsplit("/", 1)[1]
    assert link["nodeId"] == capture and link["revokedAt"] is None

    opened = await world.open(url)
    assert opened.status_code == 200, opened.text
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["referrer-policy"] == "no-referrer"
    body = opened.json()
    node = body["node"]
    assert node["type"] == "Capture" and node["title"] == "House"
    assert node["content"] == "We chose the blue door." and node["stream"] == {"name": "Journal"}
    assert node["occurredAt"] and body["expiresAt"] == link["expiresAt"]

    # Only a hash of the link token is stored.
    [row] = await world.sql("SELECT * FROM share_links")
    assert bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    assert token not in repr(tuple(row))
    assert row.owner_id == await world.user_id(world.alice)

    [listed] = (await gql(world.client, LIST, token=world.alice))["data"]["me"]["shareLinks"]
    assert listed["id"] == link["id"] and listed["lastUsedAt"] is not None
    # Nobody else sees it in their list, nor may revoke it.
    assert (await gql(world.client, LIST, token=world.bob))["data"]["me"]["shareLinks"] == []
    by_bob = await gql(world.client, REVOKE, {"id": link["id"]}, token=world.bob)
    assert error_codes(by_bob) == ["NOT_FOUND"]
    assert (await world.open(url)).status_code == 200

    revoked = await gql(world.client, REVOKE, {"id": link["id"]}, token=world.alice)
    assert revoked["data"] == {"revokeShareLink": True}
    after = await world.open(url)
    unknown = await world.open(f"{PUBLIC_URL}/v1/share/{'A' * 43}")
    malformed = await world.open(f"{PUBLIC_URL}/v1/share/not-a-token")
    nested = await world.open(f"{PUBLIC_URL}/v1/share/{token}/x")
    assert (
        not_found_shape(after)
        == not_found_shape(unknown)
        == not_found_shape(malformed)
        == not_found_shape(nested)
    )
    again = await gql(world.client, REVOKE, {"id": link["id"]}, token=world.alice)
    assert again["data"] == {"revokeShareLink": False}

    audit = await world.sql(
        "SELECT action, target_id, details::text AS details FROM audit_log"
        " WHERE action LIKE 'share_link.%' ORDER BY id"
    )
    link_id = str(decode_global_id(link["id"]).id)
    assert [(a.action, a.target_id) for a in audit] == [
        ("share_link.create", link_id),
        ("share_link.use", link_id),  # once: later views within the minute are not recorded
        ("share_link.revoke", link_id),
    ]
    assert all(token not in a.details and "blue door" not in a.details for a in audit)


async def test_expired_link_is_404(world: World) -> None:
    capture = await world.capture(await world.stream("Journal"), "Short-lived note")
    created = await world.link(capture, world.alice, expires_in=60)
    expires = created["shareLink"]["expiresAt"]
    assert (
        timedelta(seconds=55) < datetime.fromisoformat(expires) - utcnow() <= timedelta(seconds=60)
    )
    assert (await world.open(created["url"])).status_code == 200

    await world.sql(
        "UPDATE share_links SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=decode_global_id(created["shareLink"]["id"]).id,
    )
    expired = await world.open(created["url"])
    unknown = await world.open(f"{PUBLIC_URL}/v1/share/{'B' * 43}")
    assert not_found_shape(expired) == not_found_shape(unknown)


async def test_expiry_is_bounded_and_defaults_to_a_week(world: World) -> None:
    capture = await world.capture(await world.stream("Journal"), "Bounded")
    for seconds in (59, 90 * 86_400 + 1, -1):
        body = await gql(
            world.client, CREATE_LINK, {"node": capture, "expiresIn": seconds}, token=world.alice
        )
        assert error_codes(body) == ["BAD_USER_INPUT"], seconds
    body = await gql(world.client, CREATE_LINK_DEFAULT, {"node": capture}, token=world.alice)
    lifetime = (
        datetime.fromisoformat(body["data"]["createShareLink"]["shareLink"]["expiresAt"]) - utcnow()
    )
    assert timedelta(days=7) - timedelta(minutes=1) < lifetime <= timedelta(days=7)
    assert len(await world.sql("SELECT id FROM share_links")) == 1


async def test_only_readable_shareable_nodes_can_be_shared(world: World) -> None:
    stream = await world.stream("Private")
    capture = await world.capture(stream, "Alice only")
    as_bob = await gql(world.client, CREATE_LINK, {"node": capture}, token=world.bob)
    assert error_codes(as_bob) == ["NOT_FOUND"]
    missing = encode_global_id("Capture", uuid.uuid4())
    assert error_codes(
        await gql(world.client, CREATE_LINK, {"node": missing}, token=world.alice)
    ) == ["NOT_FOUND"]
    a_stream = await gql(world.client, CREATE_LINK, {"node": stream}, token=world.alice)
    assert error_codes(a_stream) == ["BAD_USER_INPUT"]
    anonymous = await gql(world.client, CREATE_LINK, {"node": capture})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert await world.sql("SELECT id FROM share_links") == []


async def test_link_dies_when_its_creator_loses_access(world: World) -> None:
    shared = await world.stream("Shared")
    capture = await world.capture(shared, "Visible to Bob for a while")
    await world.grant(shared, world.bob, "VIEWER")
    created = await world.link(capture, world.bob)
    opened = await world.open(created["url"])
    assert opened.status_code == 200 and opened.json()["node"]["stream"]["name"] == "Shared"

    await world.grant(shared, world.bob, None)
    lost = await world.open(created["url"])
    unknown = await world.open(f"{PUBLIC_URL}/v1/share/{'C' * 43}")
    assert not_found_shape(lost) == not_found_shape(unknown)
    # Alice's own link to the same capture is unaffected.
    assert (await world.open((await world.link(capture, world.alice))["url"])).status_code == 200


async def _analysed(world: World, captures: list[str]) -> None:
    owner = await world.runtime.authenticator.authenticate(f"Bearer {world.alice}")
    ids = [decode_global_id(c).id for c in captures]
    await _analyse(world.runtime, owner, ids, related=False)


async def _insight_of(world: World, capture: str) -> str:
    query = "query($id: ID!) { node(id: $id) { ... on Capture { insights { id } } } }"
    body = await gql(world.client, query, {"id": capture}, token=world.alice)
    insight_id: str = body["data"]["node"]["insights"][0]["id"]
    return insight_id


async def test_insight_link_shows_its_lineage_only_while_all_of_it_is_visible(
    world: World,
) -> None:
    garden, budget = await world.stream("Garden"), await world.stream("Budget")
    first = await world.capture(garden, TEXTS[0], title="Garden plan")
    second = await world.capture(budget, TEXTS[1], title="Budget call")
    await _analysed(world, [first])
    insight = await _insight_of(world, first)
    # Lineage across two streams (what an LLM batching captures produces).
    await world.sql(
        "INSERT INTO insight_sources (insight_id, capture_id, owner_id)"
        " SELECT :i, id, owner_id FROM captures WHERE id = :c",
        i=decode_global_id(insight).id,
        c=decode_global_id(second).id,
    )
    await world.grant(garden, world.bob, "VIEWER")
    await world.grant(budget, world.bob, "VIEWER")
    created = await world.link(insight, world.bob)

    opened = await world.open(created["url"])
    assert opened.status_code == 200, opened.text
    node = opened.json()["node"]
    assert node["type"] == "Insight" and node["text"] and node["kind"]
    assert node["producer"].startswith("local-analyser")
    assert sorted((s["title"], s["stream"]["name"]) for s in node["sources"]) == [
        ("Budget call", "Budget"),
        ("Garden plan", "Garden"),
    ]

    # Part of the lineage hidden from the creator hides the insight altogether.
    await world.grant(budget, world.bob, None)
    assert (await world.open(created["url"])).status_code == 404
    # Bob's view of the rest is untouched: the garden capture is still his to share.
    assert (await world.open((await world.link(first, world.bob))["url"])).status_code == 200


async def test_concept_link_lists_only_mentions_its_creator_can_see(world: World) -> None:
    garden, budget = await world.stream("Garden"), await world.stream("Budget")
    first = await world.capture(garden, TEXTS[0], title="Garden plan")
    second = await world.capture(budget, TEXTS[1], title="Budget call")
    await _analysed(world, [first, second])
    query = "query($id: ID!) { node(id: $id) { ... on Capture { concepts { id name } } } }"
    body = await gql(world.client, query, {"id": first}, token=world.alice)
    jane = next(c for c in body["data"]["node"]["concepts"] if "Jane Smith" in c["name"])

    as_alice = (await world.open((await world.link(jane["id"], world.alice))["url"])).json()
    assert as_alice["node"]["type"] == "Concept" and "Jane Smith" in as_alice["node"]["name"]
    assert {m["title"] for m in as_alice["node"]["mentions"]} == {"Garden plan", "Budget call"}

    await world.grant(garden, world.bob, "VIEWER")
    as_bob = (await world.open((await world.link(jane["id"], world.bob))["url"])).json()
    assert [m["title"] for m in as_bob["node"]["mentions"]] == ["Garden plan"]
    assert all(m["stream"]["name"] == "Garden" for m in as_bob["node"]["mentions"])


async def test_share_endpoint_takes_only_get(world: World) -> None:
    response = await world.client.post("/v1/share/" + "A" * 43)
    assert response.status_code == 405
