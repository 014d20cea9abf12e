"""Hybrid search and Capture.similar over a really analysed graph (real embedder, pgvector)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.jobs import pipeline
from lifeos_gql.jobs.services import open_analysis_services
from tests.helpers import dev_token, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
SEARCH = """query($q: String!, $first: Int, $after: String, $f: SearchFilter) {
  search(query: $q, first: $first, after: $after, filter: $f) {
    edges { cursor score snippet matchedBy node { id __typename
      ... on Concept { name } ... on Insight { kind } } }
    pageInfo { hasNextPage endCursor }
  } }"""

GARDEN = (
    "Met Dr. Jane Smith in Berlin to plan the garden project. "
    "Jane thinks the compost should start in March."
)
DOG = "My dog loves running through the park every morning before breakfast."
TAX = "Quarterly tax return filed; the accountant says we owe less than last year."
KITCHEN = "Kitchen renovation: the compost bin goes under the sink, says Jane Smith."
BOB = "The compost heap behind my shed is far too wet this week."


@pytest.fixture
def search_client(client: Any) -> Any:
    return client


async def _ingest(client: Any, token: str, stream: str, texts: list[str]) -> list[str]:
    inputs = [{"streamId": stream, "content": t} for t in texts]
    body = await gql(client, BATCH, {"i": inputs}, token=token)
    return [r["capture"]["id"] for r in body["data"]["captureBatch"]["results"]]


async def _analyse(client: Any, ids: list[str]) -> None:
    """What the analysis job does, through the real pipeline (which fills the search columns)."""
    runtime = client.app.state.runtime
    async with open_analysis_services(runtime) as services:
        outcome = await pipeline.analyse(services, [decode_global_id(i).id for i in ids])
    assert len(outcome.done) == len(ids), outcome.summary()


async def _search(client: Any, token: str, q: str, **variables: Any) -> dict[str, Any]:
    body = await gql(client, SEARCH, {"q": q, **variables}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["search"]
    return result


@pytest.fixture
async def world(search_client: Any, settings: Any) -> dict[str, Any]:
    """Alice: Journal (garden, dog, tax) and Work (kitchen); Bob: his own notes."""
    client = search_client
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    journal = (await gql(client, CREATE, {"n": "Journal"}, token=alice))["data"]["createStream"]
    work = (await gql(client, CREATE, {"n": "Work"}, token=alice))["data"]["createStream"]
    bobs = (await gql(client, CREATE, {"n": "Bob notes"}, token=bob))["data"]["createStream"]
    garden, dog, tax = await _ingest(client, alice, journal["id"], [GARDEN, DOG, TAX])
    [kitchen] = await _ingest(client, alice, work["id"], [KITCHEN])
    [bob_note] = await _ingest(client, bob, bobs["id"], [BOB])
    await _analyse(client, [garden, dog, tax, kitchen])
    await _analyse(client, [bob_note])
    return {
        "client": client,
        "alice": alice,
        "bob": bob,
        "journal": journal["id"],
        "work": work["id"],
        "garden": garden,
        "dog": dog,
        "tax": tax,
        "kitchen": kitchen,
        "bob_note": bob_note,
    }


def _ids(result: dict[str, Any], typename: str | None = None) -> list[str]:
    return [
        e["node"]["id"]
        for e in result["edges"]
        if typename is None or e["node"]["__typename"] == typename
    ]


async def test_analysis_fills_full_text_columns(world: dict[str, Any]) -> None:
    runtime = world["client"].app.state.runtime
    async with runtime.system_db.engine.connect() as conn:
        captures = (
            await conn.execute(text("SELECT count(*) FILTER (WHERE search IS NULL) FROM captures"))
        ).scalar_one()
        insights = (
            await conn.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE search IS NULL) FROM insights"
                    " WHERE superseded_at IS NULL"
                )
            )
        ).one()
        lexemes = (
            await conn.execute(
                text("SELECT search::text FROM captures WHERE id = :id"),
                {"id": decode_global_id(world["garden"]).id},
            )
        ).scalar_one()
    assert captures == 0
    assert insights[0] > 0 and insights[1] == 0
    assert "'compost'" in lexemes


async def test_keyword_hit_has_highlighted_snippet(world: dict[str, Any]) -> None:
    result = await _search(world["client"], world["alice"], "compost", f={"nodeTypes": ["CAPTURE"]})
    ids = _ids(result)
    assert set(ids[:2]) == {world["garden"], world["kitchen"]}
    top = result["edges"][0]
    assert "KEYWORD" in top["matchedBy"]
    assert "<mark>compost</mark>" in top["snippet"]
    assert world["bob_note"] not in ids  # Bob's capture says "compost" too
    scores = [e["score"] for e in result["edges"]]
    assert scores == sorted(scores, reverse=True)


async def test_meaning_finds_capture_without_shared_words(world: dict[str, Any]) -> None:
    result = await _search(
        world["client"], world["alice"], "puppy exercise outdoors", f={"nodeTypes": ["CAPTURE"]}
    )
    top = result["edges"][0]
    assert top["node"]["id"] == world["dog"]
    assert top["matchedBy"] == ["MEANING"]
    assert "<mark>" not in top["snippet"] and top["snippet"].startswith("My dog")


async def test_misspelt_concept_name_found_by_trigrams(world: dict[str, Any]) -> None:
    result = await _search(world["client"], world["alice"], "Jane Smtih")
    concepts = [e for e in result["edges"] if e["node"]["__typename"] == "Concept"]
    assert concepts and concepts[0]["node"]["name"] == "Jane Smith"
    assert "NAME" in concepts[0]["matchedBy"]


async def test_filters(world: dict[str, Any]) -> None:
    client, alice = world["client"], world["alice"]
    only_work = await _search(client, alice, "compost", f={"streamIds": [world["work"]]})
    assert world["kitchen"] in _ids(only_work)
    assert world["garden"] not in _ids(only_work)
    insights = await _search(
        client, alice, "garden", f={"nodeTypes": ["INSIGHT"], "insightKinds": ["summary"]}
    )
    assert insights["edges"]
    assert {e["node"]["__typename"] for e in insights["edges"]} == {"Insight"}
    assert {e["node"]["kind"] for e in insights["edges"]} == {"summary"}
    future = await _search(
        client, alice, "compost", f={"from": "2999-01-01T00:00:00Z", "nodeTypes": ["CAPTURE"]}
    )
    assert future["edges"] == []
    bad = await gql(
        client,
        SEARCH,
        {"q": "compost", "f": {"from": "2030-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"}},
        token=alice,
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_cursor_pages_do_not_overlap(world: dict[str, Any]) -> None:
    client, alice = world["client"], world["alice"]
    full = _ids(await _search(client, alice, "Jane compost garden", first=50))
    assert len(full) >= 4
    seen: list[str] = []
    after = None
    while True:
        page = await _search(client, alice, "Jane compost garden", first=2, after=after)
        seen += _ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == full
    bad = await gql(client, SEARCH, {"q": "x", "after": "not-a-cursor"}, token=alice)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_bob_never_sees_alice_hits_until_shared(world: dict[str, Any]) -> None:
    client, bob = world["client"], world["bob"]
    alone = await _search(client, bob, "Jane Smith compost garden kitchen dog", first=50)
    assert set(_ids(alone)) <= {world["bob_note"]}
    assert set(_ids(await _search(client, bob, "Jane Smtih"))) <= {world["bob_note"]}

    runtime = client.app.state.runtime
    async with runtime.system_db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO grants (owner_id, stream_id, grantee_id, role)"
                " SELECT s.owner_id, s.id, u.id, 'VIEWER' FROM streams s, users u"
                " WHERE s.id = :stream AND u.email = 'bob@example.com'"
            ),
            {"stream": decode_global_id(world["journal"]).id},
        )
    shared = await _search(client, bob, "compost", first=50)
    ids = set(_ids(shared))
    assert {world["garden"], world["bob_note"]} <= ids
    assert world["kitchen"] not in ids  # Work stays private
    assert all(e["node"]["id"] for e in shared["edges"])


SIMILAR = (
    "query($id: ID!, $n: Int) { node(id: $id) { ... on Capture { similar(first: $n) { id } } } }"
)


async def test_capture_similar(world: dict[str, Any]) -> None:
    client = world["client"]
    body = await gql(client, SIMILAR, {"id": world["garden"], "n": 3}, token=world["alice"])
    similar = [c["id"] for c in body["data"]["node"]["similar"]]
    assert world["garden"] not in similar
    assert len(similar) == 3
    assert similar[0] == world["kitchen"]  # Jane Smith and compost, another stream
    assert world["bob_note"] not in similar
    bobs = await gql(client, SIMILAR, {"id": world["bob_note"], "n": 5}, token=world["bob"])
    assert bobs["data"]["node"]["similar"] == []  # Bob has nothing else, and sees nothing else


async def test_search_is_scoped_to_signed_in_users(search_client: Any) -> None:
    body = await gql(search_client, SEARCH, {"q": "compost"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
