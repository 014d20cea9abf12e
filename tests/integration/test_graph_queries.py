"""Graph queries and edits over GraphQL: neighbours, paths, time travel, visibility, merges."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.db.engine import count_statements
from tests.helpers import dev_token, error_codes, gql
from tests.integration.test_graph_graphql import TEXTS, _analyse
from tests.integration.test_lineage_visibility import SHARE
from tests.integration.test_lineage_visibility import _world as two_stream_insight_world

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
NEIGHBORS = """query($id: ID!, $depth: Int, $rel: [String!], $dir: EdgeDirection, $first: Int,
                     $asOf: DateTime) {
  neighbors(id: $id, depth: $depth, relations: $rel, direction: $dir, first: $first, asOf: $asOf) {
    nodes { id __typename }
    edges { id relation producer from { id } to { id } recordedAt supersededAt }
  } }"""
PATH = """query($a: ID!, $b: ID!, $d: Int, $rel: [String!]) {
  path(from: $a, to: $b, maxDepth: $d, relations: $rel) { id relation from { id } to { id } } }"""
LINK = """mutation($a: ID!, $b: ID!, $r: String!) {
  linkNodes(from: $a, to: $b, relation: $r, weight: 0.5) {
    id relation producer weight recordedAt supersededAt from { id } to { id } } }"""
UNLINK = "mutation($e: ID!) { unlinkNodes(edgeId: $e) { id supersededAt } }"


async def _graph(client: Any, settings: Any) -> dict[str, Any]:
    """Alice's two analysed captures in two streams (A: first, B: second), linked RELATED_TO."""
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    streams = [
        (await gql(client, CREATE, {"n": n}, token=alice))["data"]["createStream"]["id"]
        for n in ("A", "B")
    ]
    ids = []
    for stream, content in zip(streams, TEXTS, strict=True):
        body = await gql(
            client, BATCH, {"i": [{"streamId": stream, "content": content}]}, token=alice
        )
        ids.append(body["data"]["captureBatch"]["results"][0]["capture"]["id"])
    runtime = client.app.state.runtime
    owner = await runtime.authenticator.authenticate(f"Bearer {alice}")
    await _analyse(runtime, owner, [decode_global_id(i).id for i in ids], related=True)
    return {"alice": alice, "streams": streams, "captures": ids, "runtime": runtime}


async def _grant(runtime: Any, stream: str, email: str, role: str) -> None:
    async with runtime.system_db.transaction() as uow:
        await uow.execute(
            text(
                "INSERT INTO grants (owner_id, stream_id, grantee_id, role)"
                " SELECT s.owner_id, s.id, u.id, :r FROM streams s, users u"
                " WHERE s.id = :s AND u.email = :e"
            ),
            {"s": decode_global_id(stream).id, "e": email, "r": role},
        )


async def _neighbors(client: Any, token: str, **variables: Any) -> dict[str, Any]:
    body = await gql(client, NEIGHBORS, variables, token=token)
    assert not body.get("errors"), body
    result: dict[str, Any] = body["data"]["neighbors"]
    return result


async def test_neighbors_depth_direction_and_cap(client, settings):
    g = await _graph(client, settings)
    c0, c1 = g["captures"]
    one = await _neighbors(client, g["alice"], id=c0)
    assert one["nodes"][0] == {"id": c0, "__typename": "Capture"}
    kinds = {n["__typename"] for n in one["nodes"]}
    assert {"Capture", "Concept", "Insight"} <= kinds, kinds
    assert c1 in {n["id"] for n in one["nodes"]}  # RELATED_TO
    ids = {n["id"] for n in one["nodes"]}
    assert all(e["from"]["id"] in ids and e["to"]["id"] in ids for e in one["edges"])
    assert all(c0 in (e["from"]["id"], e["to"]["id"]) for e in one["edges"])

    out = await _neighbors(client, g["alice"], id=c0, dir="OUT")
    assert {e["relation"] for e in out["edges"]} <= {"MENTIONS", "RELATED_TO"}
    assert all(e["from"]["id"] == c0 for e in out["edges"])

    two = await _neighbors(client, g["alice"], id=c0, depth=2, rel=["MENTIONS"])
    assert c1 in {n["id"] for n in two["nodes"]}  # capture -> shared concept <- capture
    assert {e["relation"] for e in two["edges"]} == {"MENTIONS"}

    capped = await _neighbors(client, g["alice"], id=c0, depth=2, first=3)
    assert len(capped["nodes"]) == 3 and capped["nodes"][0]["id"] == c0

    bad = await gql(client, NEIGHBORS, {"id": c0, "depth": 4}, token=g["alice"])
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_neighbors_statements_bounded_by_depth(client, settings):
    g = await _graph(client, settings)
    with count_statements() as small:
        await _neighbors(client, g["alice"], id=g["captures"][0], depth=2, first=2)
    with count_statements() as large:
        await _neighbors(client, g["alice"], id=g["captures"][0], depth=2, first=200)
    # actor, candidate streams, roles, the walk (one statement), then the
    # records of the nodes and edge ends: captures+roles, insights+lineage+roles,
    # concepts+streams+roles+visible: at most 16 whatever the size.
    assert len(large) <= 16, large
    assert len(small) <= len(large)


IDS_ONLY = """query($id: ID!) { neighbors(id: $id, depth: 2, first: 200) {
  nodes { id ...T } edges { id relation } } }
fragment T on Node { __typename }"""
WITH_FIELDS = """query($id: ID!) { neighbors(id: $id, depth: 2, first: 200) {
  nodes { id __typename ... on Capture { content } ... on Concept { name } }
  edges { id relation } } }"""


async def test_neighbors_answers_ids_without_loading_records(client, settings):
    g = await _graph(client, settings)
    c0 = g["captures"][0]
    with count_statements() as by_id:
        ids = await gql(client, IDS_ONLY, {"id": c0}, token=g["alice"])
    with count_statements() as by_fields:
        full = await gql(client, WITH_FIELDS, {"id": c0}, token=g["alice"])
    assert not ids.get("errors") and not full.get("errors"), (ids, full)
    # Same nodes, same order and types, whichever way they are answered.
    strip = [
        {"id": n["id"], "__typename": n["__typename"]} for n in full["data"]["neighbors"]["nodes"]
    ]
    assert ids["data"]["neighbors"]["nodes"] == strip
    assert ids["data"]["neighbors"]["edges"] == full["data"]["neighbors"]["edges"]
    assert len(strip) > 3
    nodes = full["data"]["neighbors"]["nodes"]
    assert all(n["content"] for n in nodes if n["__typename"] == "Capture")  # decrypted
    assert all(n["name"] for n in nodes if n["__typename"] == "Concept")
    # actor, candidate streams, roles, the walk: nothing per node, no record loads.
    assert len(by_id) == 4, by_id
    assert len(by_fields) > len(by_id)


async def test_unlink_keeps_history_for_as_of(client, settings):
    g = await _graph(client, settings)
    c0, c1 = g["captures"]
    linked = await gql(client, LINK, {"a": c0, "b": c1, "r": "inspired by"}, token=g["alice"])
    edge = linked["data"]["linkNodes"]
    assert edge["relation"] == "INSPIRED_BY" and edge["producer"] == "USER"
    assert edge["from"]["id"] == c0 and edge["to"]["id"] == c1
    again = await gql(client, LINK, {"a": c0, "b": c1, "r": "INSPIRED_BY"}, token=g["alice"])
    assert again["data"]["linkNodes"]["id"] == edge["id"]  # idempotent

    removed = (await gql(client, UNLINK, {"e": edge["id"]}, token=g["alice"]))["data"]
    assert removed["unlinkNodes"]["supersededAt"] is not None
    twice = await gql(client, UNLINK, {"e": edge["id"]}, token=g["alice"])
    assert error_codes(twice) == ["CONFLICT"]

    linked_at = edge["recordedAt"]
    now = await _neighbors(client, g["alice"], id=c0, rel=["INSPIRED_BY"])
    then = await _neighbors(client, g["alice"], id=c0, rel=["INSPIRED_BY"], asOf=linked_at)
    before = datetime.fromisoformat(linked_at) - timedelta(milliseconds=1)
    earlier = await _neighbors(
        client, g["alice"], id=c0, rel=["INSPIRED_BY"], asOf=before.isoformat()
    )
    assert now["edges"] == [] and [n["id"] for n in now["nodes"]] == [c0]
    assert [e["id"] for e in then["edges"]] == [edge["id"]]
    assert then["edges"][0]["supersededAt"] is not None  # the row as stored, history intact
    assert earlier["edges"] == []

    async with g["runtime"].system_db.transaction() as uow:
        actions = (
            (await uow.execute(text("SELECT action FROM audit_log ORDER BY id"))).scalars().all()
        )
        events = (
            (await uow.execute(text("SELECT payload FROM events WHERE kind = 'GRAPH_CHANGED'")))
            .scalars()
            .all()
        )
    assert actions.count("graph.link_nodes") == 1 and "graph.unlink_nodes" in actions
    assert any(p.get("superseded") == {"INSPIRED_BY": 1} for p in events)


async def test_path_shortest_and_bounded(client, settings):
    g = await _graph(client, settings)
    c0, c1 = g["captures"]
    direct = (await gql(client, PATH, {"a": c0, "b": c1}, token=g["alice"]))["data"]["path"]
    assert [e["relation"] for e in direct] == ["RELATED_TO"]
    via = await gql(client, PATH, {"a": c0, "b": c1, "rel": ["MENTIONS"]}, token=g["alice"])
    chain = via["data"]["path"]
    assert len(chain) == 2 and all(e["relation"] == "MENTIONS" for e in chain)
    ends = [{e["from"]["id"], e["to"]["id"]} for e in chain]
    assert c0 in ends[0] and c1 in ends[1] and ends[0] & ends[1]  # contiguous via a concept
    short = await gql(
        client, PATH, {"a": c0, "b": c1, "d": 1, "rel": ["MENTIONS"]}, token=g["alice"]
    )
    assert short["data"]["path"] is None
    same = await gql(client, PATH, {"a": c0, "b": c0}, token=g["alice"])
    assert same["data"]["path"] == []


async def test_visibility_for_other_users(client, settings):
    g = await _graph(client, settings)
    c0, c1 = g["captures"]
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    await gql(client, "{ me { id } }", token=bob)
    assert (await _neighbors(client, bob, id=c1)) == {"nodes": [], "edges": []}
    assert (await gql(client, PATH, {"a": c0, "b": c1}, token=bob))["data"]["path"] is None
    concept_q = "query($n: String!) { concept(name: $n) { id name } }"
    assert (await gql(client, concept_q, {"n": "jane smith"}, token=bob))["data"]["concept"] is None
    denied = await gql(client, LINK, {"a": c0, "b": c1, "r": "X"}, token=bob)
    assert error_codes(denied) == ["NOT_FOUND"]

    await _grant(g["runtime"], g["streams"][1], "bob@example.com", "VIEWER")
    seen = await _neighbors(client, bob, id=c1, depth=2)
    ids = {n["id"] for n in seen["nodes"]}
    assert c1 in ids and c0 not in ids  # c0's stream is not shared
    assert all(c0 not in (e["from"]["id"], e["to"]["id"]) for e in seen["edges"])
    assert all(e["from"] is not None and e["to"] is not None for e in seen["edges"])
    found = (await gql(client, concept_q, {"n": "JANE SMITH"}, token=bob))["data"]["concept"]
    assert found is not None and "Jane Smith" in found["name"]
    viewer_link = await gql(client, LINK, {"a": c1, "b": found["id"], "r": "X"}, token=bob)
    assert error_codes(viewer_link) == ["FORBIDDEN"]
    merge = await gql(
        client,
        "mutation($i: [ID!]!) { mergeConcepts(ids: $i) { id } }",
        {"i": [found["id"], found["id"]]},
        token=bob,
    )
    assert error_codes(merge) == ["BAD_USER_INPUT"]


async def test_merge_concepts_repoints_edges_and_keeps_aliases(client, settings):
    g = await _graph(client, settings)
    c0 = g["captures"][0]
    q = "query($id: ID!) { node(id: $id) { ... on Capture { concepts { id name kind } } } }"
    concepts = (await gql(client, q, {"id": c0}, token=g["alice"]))["data"]["node"]["concepts"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for c in concepts:
        by_kind.setdefault(c["kind"], []).append(c)
    _kind, pair = next((k, v[:2]) for k, v in by_kind.items() if len(v) >= 2)
    keep, gone = pair
    merged = await gql(
        client,
        "mutation($i: [ID!]!) { mergeConcepts(ids: $i) { id name aliases } }",
        {"i": [keep["id"], gone["id"]]},
        token=g["alice"],
    )
    assert not merged.get("errors"), merged
    survivor = merged["data"]["mergeConcepts"]
    assert survivor["id"] == keep["id"] and gone["name"] in survivor["aliases"]

    after = await _neighbors(client, g["alice"], id=c0, rel=["MENTIONS"])
    ids = {n["id"] for n in after["nodes"]}
    assert keep["id"] in ids and gone["id"] not in ids
    mentions = [e for e in after["edges"] if e["to"]["id"] == keep["id"]]
    assert len(mentions) == 1  # the two MENTIONS edges became one
    found = await gql(
        client,
        "query($n: String!) { concept(name: $n) { id } }",
        {"n": gone["name"]},
        token=g["alice"],
    )
    assert found["data"]["concept"]["id"] == keep["id"]
    async with g["runtime"].system_db.transaction() as uow:
        history = (
            await uow.execute(
                text(
                    "SELECT count(*) FROM edges WHERE (from_id = :c OR to_id = :c)"
                    " AND superseded_at IS NOT NULL"
                ),
                {"c": uuid.UUID(str(decode_global_id(gone["id"]).id))},
            )
        ).scalar_one()
    assert history >= 1  # superseded, not deleted
    again = await gql(
        client,
        "mutation($i: [ID!]!) { mergeConcepts(ids: $i) { id } }",
        {"i": [keep["id"], gone["id"]]},
        token=g["alice"],
    )
    assert error_codes(again) in (["CONFLICT"], ["NOT_FOUND"])


async def test_path_never_reaches_an_insight_with_hidden_lineage(client, settings):
    """Row-level security hides a capture of an unshared stream entirely, so a
    lineage check written as a join would not see it and pass the insight."""
    w = await two_stream_insight_world(client, settings)
    shared_capture, insight = w["captures"][0], w["insight"]
    variables = {"a": shared_capture, "b": insight}
    owner_path = (await gql(client, PATH, variables, token=w["alice"]))["data"]["path"]
    assert owner_path and owner_path[0]["relation"] == "DERIVED_FROM"  # it exists
    shared = {"s": w["streams"][0], "e": "bob@example.com", "r": "VIEWER"}
    assert "errors" not in await gql(client, SHARE, shared, token=w["alice"])
    bob = await gql(client, PATH, variables, token=w["bob"])
    assert bob["data"]["path"] is None, bob  # one of its two streams is not Bob's
