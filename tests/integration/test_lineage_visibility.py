"""Lineage-aware visibility: an insight drawn from two streams shows only to
readers of both, in every path that returns data.

The pipeline's insights have one source capture each; an insight built from
two (what an LLM batching several captures produces) is made here by adding
the second lineage row, exactly as the insights repository stores lineage.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from lifeos_gql.api.subscriptions.cursor import encode_event_cursor
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.jobs import pipeline
from lifeos_gql.jobs.services import open_analysis_services
from tests.conftest import make_settings
from tests.helpers import dev_token, gql
from tests.integration.subscriptions_harness import live_server, next_event, request, ws_client

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
SHARE = """mutation($s: ID!, $e: String!, $r: Role!) {
  shareStream(streamId: $s, email: $e, role: $r) { id } }"""
GARDEN = (
    "Met Dr. Jane Smith in Berlin to plan the garden project. "
    "Jane thinks the compost should start in March."
)
BUDGET = "The garden project budget was approved by Acme Corporation for the spring season."
VIEWS = """query($id: ID!, $capture: ID!, $stream: ID!, $q: String!) {
  node(id: $id) { id }
  nodes: neighbors(id: $capture, depth: 2, first: 200) { nodes { id } edges { from { id } to { id } } }
  capture: node(id: $capture) { ... on Capture { insights { id } } }
  stream(id: $stream) { insights(first: 100) { nodes { id } } }
  search(query: $q, first: 50) { edges { node { id } } }
}"""


async def _world(client: Any, settings: Any) -> dict[str, Any]:
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    await gql(client, "{ me { id } }", token=bob)
    streams = [
        (await gql(client, CREATE, {"n": n}, token=alice))["data"]["createStream"]["id"]
        for n in ("Shared", "Private")
    ]
    captures = []
    for stream, content in zip(streams, (GARDEN, BUDGET), strict=True):
        body = await gql(
            client, BATCH, {"i": [{"streamId": stream, "content": content}]}, token=alice
        )
        captures.append(body["data"]["captureBatch"]["results"][0]["capture"]["id"])
    runtime = client.app.state.runtime
    async with open_analysis_services(runtime) as services:
        outcome = await pipeline.analyse(services, [decode_global_id(c).id for c in captures])
    assert len(outcome.done) == 2, outcome.summary()
    shared_capture = decode_global_id(captures[0]).id
    private_capture = decode_global_id(captures[1]).id
    async with runtime.system_db.transaction() as uow:
        row = (
            await uow.execute(
                text(
                    "SELECT s.insight_id, s.owner_id FROM insight_sources s"
                    " JOIN insights i ON i.id = s.insight_id"
                    " WHERE s.capture_id = :c AND i.superseded_at IS NULL LIMIT 1"
                ),
                {"c": shared_capture},
            )
        ).one()
        await uow.execute(
            text(
                "INSERT INTO insight_sources (insight_id, capture_id, owner_id) VALUES (:i, :c, :o)"
            ),
            {"i": row[0], "c": private_capture, "o": row[1]},
        )
    return {
        "alice": alice,
        "bob": bob,
        "streams": streams,
        "captures": captures,
        "insight": encode_global_id("Insight", row[0]),
    }


async def _views(client: Any, token: str, w: dict[str, Any]) -> dict[str, Any]:
    body = await gql(
        client,
        VIEWS,
        {"id": w["insight"], "capture": w["captures"][0], "stream": w["streams"][0], "q": "garden"},
        token=token,
    )
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _insight_seen(data: dict[str, Any], insight: str) -> dict[str, bool]:
    """Where the two-stream insight shows up in one response."""
    graph = data["nodes"]
    return {
        "node": data["node"] is not None,
        "neighbors": insight in {n["id"] for n in graph["nodes"]},
        "edges": any(insight in (e["from"]["id"], e["to"]["id"]) for e in graph["edges"]),
        "capture.insights": insight in {i["id"] for i in data["capture"]["insights"]},
        "stream.insights": insight in {n["id"] for n in data["stream"]["insights"]["nodes"]},
        "search": insight in {e["node"]["id"] for e in data["search"]["edges"]},
    }


async def test_two_stream_insight_needs_both_streams(client, settings):
    w = await _world(client, settings)
    owner_view = _insight_seen(await _views(client, w["alice"], w), w["insight"])
    # The owner sees it everywhere a reader could meet it (else the test proves nothing).
    assert owner_view == dict.fromkeys(owner_view, True)

    shared = await gql(
        client,
        SHARE,
        {"s": w["streams"][0], "e": "bob@example.com", "r": "VIEWER"},
        token=w["alice"],
    )
    assert "errors" not in shared, shared
    bob_view = await _views(client, w["bob"], w)
    assert bob_view["capture"] is not None  # Bob reads the shared stream's capture …
    assert _insight_seen(bob_view, w["insight"]) == dict.fromkeys(
        owner_view, False
    )  # … not the insight
    private = w["captures"][1]
    assert private not in {n["id"] for n in bob_view["nodes"]["nodes"]}

    both = await gql(
        client,
        SHARE,
        {"s": w["streams"][1], "e": "bob@example.com", "r": "VIEWER"},
        token=w["alice"],
    )
    assert "errors" not in both, both
    assert _insight_seen(await _views(client, w["bob"], w), w["insight"]) == owner_view


INSIGHT_EVENTS = """subscription($s: ID, $after: String) {
  insightAdded(streamId: $s, after: $after) { cursor insight { id } } }"""
MARKER = "Marker note: the greenhouse thermometer reads twenty degrees in the afternoon."


async def _replayed_insights(server: Any, token: str, stream: str, marker: set[str]) -> set[str]:
    """Insights Bob's ``insightAdded`` replays from the start, up to the marker's insight."""
    seen: set[str] = set()
    async with ws_client(server.ws_url, token) as session:
        events = session.subscribe(request(INSIGHT_EVENTS, s=stream, after=encode_event_cursor(0)))
        while not seen & marker:  # events arrive in order; the marker's come last
            event = await next_event(events)
            seen.add(event["insightAdded"]["insight"]["id"])
    return seen


async def test_two_stream_insight_in_subscriptions(db_url: str, data_dir: Any) -> None:
    """Replaying ``insightAdded`` applies the same rule: hidden until both streams are shared."""
    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir)
    async with (
        live_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=60) as client,
    ):
        client.app = server.app  # type: ignore[attr-defined]
        w = await _world(client, settings)
        shared, private = w["streams"]
        body = await gql(
            client, BATCH, {"i": [{"streamId": shared, "content": MARKER}]}, token=w["alice"]
        )
        marker_capture = body["data"]["captureBatch"]["results"][0]["capture"]["id"]
        async with open_analysis_services(server.app.state.runtime) as services:
            await pipeline.analyse(services, [decode_global_id(marker_capture).id])
        query = "query($c: ID!) { node(id: $c) { ... on Capture { insights { id } } } }"
        marker_body = await gql(client, query, {"c": marker_capture}, token=w["alice"])
        marker = {i["id"] for i in marker_body["data"]["node"]["insights"]}
        assert marker
        assert w["insight"] in await _replayed_insights(server, w["alice"], shared, marker)

        for stream in (shared, private):
            variables = {"s": stream, "e": "bob@example.com", "r": "VIEWER"}
            assert "errors" not in await gql(client, SHARE, variables, token=w["alice"])
            bob_sees = await _replayed_insights(server, w["bob"], shared, marker)
            # Only once both streams of its lineage are shared does Bob get the event.
            assert (w["insight"] in bob_sees) is (stream == private)
