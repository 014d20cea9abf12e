"""Two real server processes sharing one Postgres and Redis.

A client subscribed on one process receives the events caused by mutations
(and by the analysis worker) on the other, through the Redis bus; and a
client that resumes on the other process with its last cursor gets exactly
the events it missed, in order, then live ones. Clients use ``gql`` over
graphql-transport-ws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifeos_gql.infra.auth.dev_issuer import DevIssuer
from tests.acceptance.conftest import ServerProcess, start_server, stop_server
from tests.integration.subscriptions_harness import (
    link,
    make_stream_with_captures,
    next_event,
    request,
    start,
    ws_client,
)

GRAPH = """subscription($after: String) { graphChanged(after: $after) {
  cursor change node { id } edges { id relation } } }"""
ANALYZED = """subscription($s: ID) { captureAnalyzed(streamId: $s) {
  cursor status capture { id analysisStatus } insights { id kind } } }"""
INSIGHTS = """subscription($s: ID) { insightAdded(streamId: $s) {
  cursor insight { id kind sources { id } } } }"""


@pytest.fixture
def pair(
    db_url: str, data_dir: Path, redis_url: str
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Process A runs the analysis worker; B serves only. Same database, same Redis."""
    common = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "LIFEOS_WS_PING_SECONDS": "5"}
    a = start_server({**common, "LIFEOS_INPROCESS_WORKER": "true"}, data_dir)
    try:
        b = start_server({**common, "LIFEOS_INPROCESS_WORKER": "false"}, data_dir)
    except BaseException:
        stop_server(a)
        raise
    yield a, b
    stop_server(b)
    stop_server(a)


def _ws(server: ServerProcess) -> str:
    return server.base_url.replace("http://", "ws://") + "/graphql"


async def test_mutation_on_one_process_reaches_a_client_on_the_other(pair: Any) -> None:
    a, b = pair
    token = DevIssuer.load_or_create(a.data_dir).mint("alice@example.com")
    stream, (c1, c2) = await make_stream_with_captures(
        a.base_url, token, "Journal", ["Ran along the river with Maria.", "Knee felt fine."]
    )
    async with ws_client(_ws(b), token) as session:
        graph, first_graph = start(session, request(GRAPH))
        analyzed, first_analyzed = start(session, request(ANALYZED, s=stream))
        _, first_insight = start(session, request(INSIGHTS, s=stream))
        await _wait_live(b, token, 3)
        edge = await link(a.base_url, token, c1, c2, "SAME_DAY")  # a mutation on A
        event = (await asyncio.wait_for(first_graph, 30))["graphChanged"]
        while event["change"] != "LINKED":  # A's worker may announce analyses first
            event = (await next_event(graph))["graphChanged"]
        assert event["edges"] == [{"id": edge, "relation": "SAME_DAY"}]

        # A capture sent to A, analysed by A's worker, announced on B.
        _, (c3,) = await _capture(a, token, stream)
        done = await _first_for(first_analyzed, analyzed, "captureAnalyzed", c3)
        assert done["status"] == "DONE"
        assert done["capture"] == {"id": c3, "analysisStatus": "DONE"}
        assert done["insights"], done
        insight = (await first_insight)["insightAdded"]
        assert insight["insight"]["sources"], insight


async def test_resume_on_the_other_process_gets_exactly_the_missed_events(pair: Any) -> None:
    a, b = pair
    token = DevIssuer.load_or_create(a.data_dir).mint("alice@example.com")
    _, ids = await make_stream_with_captures(
        a.base_url, token, "Journal", [f"entry {i}" for i in range(12)]
    )
    # A's worker announces each analysis too: let it finish, so that the
    # events below are exactly the links.
    await _all_analysed(a, token, ids)
    async with ws_client(_ws(a), token) as session:
        events, first = start(session, request(GRAPH))
        await _wait_live(a, token, 1)
        await link(b.base_url, token, ids[0], ids[1], "BEFORE")
        cursor = (await first)["graphChanged"]["cursor"]
    # Disconnected: ten events happen (on B).
    missed = [
        await link(b.base_url, token, ids[i], ids[i + 1], f"MISSED_{i}") for i in range(1, 11)
    ]
    async with ws_client(_ws(b), token) as session:
        events, first = start(session, request(GRAPH, after=cursor))
        replayed = [(await first)["graphChanged"]]
        replayed += [(await next_event(events))["graphChanged"] for _ in range(9)]
        live = asyncio.ensure_future(next_event(events))
        await link(a.base_url, token, ids[11], ids[0], "LIVE")  # live, from A
        after = (await live)["graphChanged"]
    assert [e["edges"][0]["id"] for e in replayed] == missed
    assert after["edges"][0]["relation"] == "LIVE"
    assert len({cursor, after["cursor"], *(e["cursor"] for e in replayed)}) == 12


async def test_revoking_a_grant_on_one_process_stops_delivery_on_the_other(pair: Any) -> None:
    """Bob listens on B; Alice revokes his grant on A, then links on A: B withholds it."""
    from tests.integration.subscriptions_harness import gql_http
    from tests.integration.test_subscriptions import SHARE

    a, b = pair
    issuer = DevIssuer.load_or_create(a.data_dir)
    alice, bob = issuer.mint("alice@example.com"), issuer.mint("bob@example.com")
    await gql_http(a.base_url, "{ me { id } }", token=bob)  # bob signs up
    shared, (a1, a2, a3) = await make_stream_with_captures(
        a.base_url, alice, "Shared", ["one", "two", "three"]
    )
    _, (b1, b2) = await make_stream_with_captures(a.base_url, bob, "Bob's", ["x", "y"])
    # A's worker announces each analysis: let it finish, so that the events
    # below are exactly the links.
    await _all_analysed(a, alice, [a1, a2, a3])
    await _all_analysed(a, bob, [b1, b2])
    grant = (await gql_http(a.base_url, SHARE, {"s": shared, "e": "bob@example.com"}, token=alice))[
        "shareStream"
    ]["id"]
    async with ws_client(_ws(b), bob) as session:
        events, first = start(session, request(GRAPH))
        await _wait_live(b, bob, 1)
        await link(a.base_url, alice, a1, a2, "SEEN")
        assert (await first)["graphChanged"]["edges"][0]["relation"] == "SEEN"

        revoke = "mutation($g: ID!) { revokeGrant(id: $g) }"
        await gql_http(a.base_url, revoke, {"g": grant}, token=alice)
        await link(a.base_url, alice, a2, a3, "HIDDEN")
        await link(a.base_url, bob, b1, b2, "OWN")
        # Events arrive in order: bob's own comes next, alice's was withheld.
        after = (await next_event(events))["graphChanged"]
    assert after["edges"][0]["relation"] == "OWN"


async def _capture(server: ServerProcess, token: str, stream: str) -> tuple[str, list[str]]:
    from tests.integration.subscriptions_harness import CAPTURE, gql_http

    data = await gql_http(
        server.base_url,
        CAPTURE,
        {"s": stream, "c": "Booked physiotherapy for the knee; Berlin half marathon in April."},
        token=token,
    )
    return stream, [data["capture"]["capture"]["id"]]


async def _first_for(first: Any, iterator: Any, field: str, capture_id: str) -> dict[str, Any]:
    """The first event about ``capture_id`` (earlier captures may end first)."""
    event = (await asyncio.wait_for(first, 120))[field]
    while event["capture"]["id"] != capture_id:
        event = (await next_event(iterator, 120))[field]
    return dict(event)


async def _all_analysed(server: ServerProcess, token: str, ids: list[str]) -> None:
    import time

    from tests.integration.subscriptions_harness import gql_http

    single = "query($id: ID!) { node(id: $id) { ... on Capture { analysisStatus } } }"
    deadline = time.monotonic() + 120
    pending = list(ids)
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} captures not analysed"
        data = await gql_http(server.base_url, single, {"id": pending[0]}, token=token)
        if data["node"]["analysisStatus"] in ("DONE", "FAILED", "SKIPPED"):
            pending.pop(0)
        else:
            await asyncio.sleep(0.2)  # polling the analysis status, bounded


async def _wait_live(server: ServerProcess, token: str, count: int, seconds: float = 20.0) -> None:
    """Poll (bounded) the server's subscription count for this user, over HTTP."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        while True:
            body = (await http.get("/healthz/subscriptions")).json()
            if body["subscriptions"] >= count:
                return
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.05)  # polling a probe, bounded by the deadline
