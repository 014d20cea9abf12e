"""Live subscriptions over graphql-transport-ws with the ``gql`` client (one process)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.helpers import dev_token
from tests.integration.subscriptions_harness import (
    link,
    live_server,
    make_stream_with_captures,
    next_event,
    request,
    start,
    wait_subscribed,
    ws_client,
)

GRAPH = """subscription($node: ID, $after: String) {
  graphChanged(nodeId: $node, after: $after) {
    cursor change node { id __typename } nodes { id } edges { id relation from { id } to { id } }
  } }"""


@pytest.fixture
def sub_settings(db_url: str, data_dir: Path) -> Any:
    return make_settings(database_url=db_url, lifeos_data_dir=data_dir)


async def test_link_nodes_delivers_graph_changed_to_both_ends(
    sub_settings: Any, data_dir: Path
) -> None:
    token = dev_token(data_dir, "alice@example.com")
    async with live_server(sub_settings) as server:
        _, (a, b, c) = await make_stream_with_captures(
            server.base_url, token, "Journal", ["ran 10k", "knee hurts", "bought shoes"]
        )
        async with ws_client(server.ws_url, token) as session:
            on_b = session.subscribe(request(GRAPH, node=b))
            first = asyncio.ensure_future(next_event(on_b))
            await wait_subscribed(server)
            await link(server.base_url, token, a, c, "UNRELATED")  # touches neither b
            edge_id = await link(server.base_url, token, a, b, "CAUSED")
            event = (await first)["graphChanged"]
        assert event["change"] == "LINKED"
        assert event["node"] == {"id": a, "__typename": "Capture"}
        assert event["nodes"] == [{"id": b}]
        assert event["edges"] == [
            {"id": edge_id, "relation": "CAUSED", "from": {"id": a}, "to": {"id": b}}
        ]
        assert event["cursor"]


async def test_resume_replays_missed_events_in_order_then_live(
    sub_settings: Any, data_dir: Path
) -> None:
    token = dev_token(data_dir, "alice@example.com")
    async with live_server(sub_settings) as server:
        _, ids = await make_stream_with_captures(
            server.base_url, token, "Journal", [f"note {i}" for i in range(12)]
        )
        async with ws_client(server.ws_url, token) as session:
            events = session.subscribe(request(GRAPH))
            first = asyncio.ensure_future(next_event(events))
            await wait_subscribed(server)
            await link(server.base_url, token, ids[0], ids[1], "FIRST")
            cursor = (await first)["graphChanged"]["cursor"]
        await wait_subscribed(server, 0)
        missed = [
            await link(server.base_url, token, ids[i], ids[i + 1], f"MISSED_{i}")
            for i in range(1, 11)
        ]
        async with ws_client(server.ws_url, token) as session:
            events = session.subscribe(request(GRAPH, after=cursor))
            replayed = [(await next_event(events))["graphChanged"] for _ in range(10)]
            live = asyncio.ensure_future(next_event(events))
            await link(server.base_url, token, ids[11], ids[0], "LIVE")
            after_replay = (await live)["graphChanged"]
        assert [e["edges"][0]["id"] for e in replayed] == missed
        assert [e["edges"][0]["relation"] for e in replayed] == [
            f"MISSED_{i}" for i in range(1, 11)
        ]
        assert after_replay["edges"][0]["relation"] == "LIVE"
        cursors = [cursor, *(e["cursor"] for e in replayed), after_replay["cursor"]]
        assert len(set(cursors)) == 12


async def test_bad_cursor_and_hidden_node_are_errors(sub_settings: Any, data_dir: Path) -> None:
    from gql.transport.exceptions import TransportQueryError

    alice = dev_token(data_dir, "alice@example.com")
    bob = dev_token(data_dir, "bob@example.com")
    async with live_server(sub_settings) as server:
        _, (a,) = await make_stream_with_captures(server.base_url, alice, "Mine", ["secret"])
        async with ws_client(server.ws_url, bob) as session:
            with pytest.raises(TransportQueryError) as hidden:
                await next_event(session.subscribe(request(GRAPH, node=a)))
            with pytest.raises(TransportQueryError) as malformed:
                await next_event(session.subscribe(request(GRAPH, after="not-a-cursor")))
    assert hidden.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert malformed.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


SHARE = """mutation($s: ID!, $e: String!) {
  shareStream(streamId: $s, email: $e, role: VIEWER) { id } }"""


async def test_revoking_a_grant_stops_delivery_at_once(sub_settings: Any, data_dir: Path) -> None:
    from tests.integration.subscriptions_harness import gql_http

    alice = dev_token(data_dir, "alice@example.com")
    bob = dev_token(data_dir, "bob@example.com")
    async with live_server(sub_settings) as server:
        await gql_http(server.base_url, "{ me { id } }", token=bob)  # bob signs up
        shared, (a1, a2, a3) = await make_stream_with_captures(
            server.base_url, alice, "Shared", ["one", "two", "three"]
        )
        _, (b1, b2) = await make_stream_with_captures(server.base_url, bob, "Bob's", ["x", "y"])
        grant = (
            await gql_http(
                server.base_url, SHARE, {"s": shared, "e": "bob@example.com"}, token=alice
            )
        )["shareStream"]["id"]
        async with ws_client(server.ws_url, bob) as session:
            events, first = start(session, request(GRAPH))
            await wait_subscribed(server)
            await link(server.base_url, alice, a1, a2, "SEEN")
            seen = (await first)["graphChanged"]
            assert seen["node"]["id"] == a1 and seen["edges"][0]["relation"] == "SEEN"

            await gql_http(
                server.base_url,
                "mutation($g: ID!) { revokeGrant(id: $g) }",
                {"g": grant},
                token=alice,
            )
            await link(server.base_url, alice, a2, a3, "HIDDEN")
            await link(server.base_url, bob, b1, b2, "OWN")
            # The next event bob gets is his own: alice's came first and was withheld.
            after = (await next_event(events))["graphChanged"]
        assert after["node"]["id"] == b1
        assert after["edges"][0]["relation"] == "OWN"


async def test_slow_consumer_is_closed_with_1013(db_url: str, data_dir: Path) -> None:
    from lifeos_gql.core.ids import decode_global_id
    from lifeos_gql.domains.graph import repository
    from tests.integration.subscriptions_harness import StalledClient

    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir, lifeos_ws_queue_size=2)
    token = dev_token(data_dir, "alice@example.com")
    big = "lorem ipsum " * 20_000  # ~240 KB per delivered event
    produced = 60
    async with live_server(settings) as server:
        stream, (a,) = await make_stream_with_captures(server.base_url, token, "Big", [big])
        runtime = server.app.state.runtime
        dispatcher = runtime.subscriptions
        client = await StalledClient.connect(server.ws_url, token)
        await client.subscribe(
            "subscription { graphChanged { cursor node { ... on Capture { content } } } }"
        )
        await wait_subscribed(server)
        [sub] = dispatcher._by_kind["GRAPH_CHANGED"]
        async with runtime.system_db.transaction() as uow:
            await repository.append_events(
                uow,
                [
                    {
                        "owner_id": sub.actor.user_id,
                        "stream_ids": [decode_global_id(stream).id],
                        "kind": "GRAPH_CHANGED",
                        "node_type": "capture",
                        "node_id": decode_global_id(a).id,
                        "payload": {"change": "LINKED"},
                    }
                    for _ in range(produced)
                ],
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while dispatcher.overflows < 1:
            assert loop.time() < deadline, "the slow consumer was never closed"
            await asyncio.sleep(0.05)  # polling server state, bounded by the deadline
        # Now read everything: the close frame comes after what was in flight.
        received, code, reason = await client.read_until_closed(seconds=30)
        assert code == 1013
        assert "slow consumer" in reason.lower()
        assert received < produced
        await wait_subscribed(server, 0)


async def test_identical_subscriptions_share_one_execution_correctly(
    sub_settings: Any, data_dir: Path
) -> None:
    """Same user, same document: one execution serves both; other documents and
    users get their own results."""
    alice = dev_token(data_dir, "alice@example.com")
    async with live_server(sub_settings) as server:
        _, (a, b) = await make_stream_with_captures(server.base_url, alice, "J", ["one", "two"])
        small = "subscription { graphChanged { cursor change } }"
        async with (
            ws_client(server.ws_url, alice) as s1,
            ws_client(server.ws_url, alice) as s2,
        ):
            _, f1 = start(s1, request(GRAPH))
            _, f2 = start(s2, request(GRAPH))
            _, f3 = start(s2, request(small))
            await wait_subscribed(server, 3)
            await link(server.base_url, alice, a, b, "SHARED")
            e1, e2, e3 = (await f1)["graphChanged"], (await f2)["graphChanged"], await f3
        assert e1 == e2
        assert e1["edges"][0]["relation"] == "SHARED"
        assert e3 == {"graphChanged": {"cursor": e1["cursor"], "change": "LINKED"}}
