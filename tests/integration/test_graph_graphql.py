"""The analysed graph over GraphQL: insights, concepts, edges, lineage, stream insights."""

from __future__ import annotations

import uuid

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.infra.llm.local import LocalAnalyser
from lifeos_gql.infra.llm.types import AnalysisItem
from tests.helpers import dev_token, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
BATCH = "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
TEXTS = [
    "Met Dr. Jane Smith from Acme Corporation in Berlin to plan the garden project. "
    "Jane thinks the compost should start in March. The garden project needs a budget.",
    "Jane Smith called about the garden project budget; Acme Corporation will fund seeds. "
    "We agreed the garden project starts in Berlin next spring.",
]


async def _analyse(runtime, owner: Actor, capture_ids: list[uuid.UUID], related: bool) -> None:
    """What the analysis job does for these captures, run inline."""
    analyser = LocalAnalyser()
    async with runtime.db.transaction(owner.user_id) as uow:
        records = await captures.captures_by_ids(
            uow=uow, actor=owner, crypto=runtime.capture_crypto, ids=capture_ids
        )
    for index, capture_id in enumerate(capture_ids):
        record = records[capture_id]
        [result] = await analyser.analyse(
            [AnalysisItem(ref=str(capture_id), title=record.title, content=record.content or "")]
        )
        earlier = [(capture_ids[0], 0.9)] if related and index > 0 else []
        async with runtime.db.transaction(owner.user_id) as uow:
            await graph.apply_analysis(
                uow=uow,
                owner_id=record.owner_id,
                capture=record,
                result=result,
                related=earlier,
                crypto=runtime.capture_crypto,
            )


async def test_capture_graph_fields(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = (await gql(client, CREATE, {"n": "Journal"}, token=alice))["data"]["createStream"]
    inputs = [{"streamId": stream["id"], "content": text} for text in TEXTS]
    results = (await gql(client, BATCH, {"i": inputs}, token=alice))["data"]["captureBatch"]
    ids = [r["capture"]["id"] for r in results["results"]]
    runtime = client.app.state.runtime
    owner = await runtime.authenticator.authenticate(f"Bearer {alice}")
    await _analyse(runtime, owner, [decode_global_id(i).id for i in ids], related=True)

    query = """query($id: ID!) { node(id: $id) { ... on Capture {
        insights { id kind text producer confidence sources { id } }
        concepts { id name kind mentions { id } }
        edges(relation: "RELATED_TO") { relation weight producer from { id } to { id } }
    } } }"""
    second = (await gql(client, query, {"id": ids[1]}, token=alice))["data"]["node"]
    assert second["insights"], second
    assert all(i["producer"].startswith("local-analyser") for i in second["insights"])
    assert all(i["kind"] != "mental_model" for i in second["insights"])
    assert all(i["sources"] == [{"id": ids[1]}] for i in second["insights"])
    names = {c["name"] for c in second["concepts"]}
    assert any("Jane Smith" in n for n in names), names
    jane = next(c for c in second["concepts"] if "Jane Smith" in c["name"])
    assert {m["id"] for m in jane["mentions"]} == set(ids)  # merged across both captures
    [link] = second["edges"]
    assert link["producer"] == "AI" and link["relation"] == "RELATED_TO"
    assert {link["from"]["id"], link["to"]["id"]} == set(ids)

    insight_id = second["insights"][0]["id"]
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { ... on Insight { text } } }",
        {"id": insight_id},
        token=alice,
    )
    assert node["data"]["node"]["text"] == second["insights"][0]["text"]
    stream_insights = await gql(
        client,
        "query($id: ID!) { stream(id: $id) { insights(first: 50) { nodes { id } } } }",
        {"id": stream["id"]},
        token=alice,
    )
    listed = {n["id"] for n in stream_insights["data"]["stream"]["insights"]["nodes"]}
    assert insight_id in listed

    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    hidden = await gql(
        client, "query($id: ID!) { node(id: $id) { id } }", {"id": insight_id}, token=bob
    )
    assert hidden["data"]["node"] is None
    hidden_concept = await gql(
        client, "query($id: ID!) { node(id: $id) { id } }", {"id": jane["id"]}, token=bob
    )
    assert hidden_concept["data"]["node"] is None
