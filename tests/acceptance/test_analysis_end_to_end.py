"""With no keys configured the server analyses captures by itself.

Captures related paragraphs over HTTP to the real server process (in-process
worker, local analyser, offline embeddings, pgvector) and waits, bounded,
until each is DONE with insights, concepts and RELATED_TO links.
"""

from __future__ import annotations

import time

import httpx

from lifeos_gql.infra.auth.dev_issuer import DevIssuer

PARAGRAPHS = [
    "Went running along the river with Maria before work. My knee felt better after the "
    "new stretching routine, and we planned to train for the Berlin half marathon in April.",
    "Second long run of the week with Maria: eighteen kilometres by the river. The knee held "
    "up, so the half marathon training plan for Berlin stays on track.",
    "Booked physiotherapy for the knee after today's run; Maria says the half marathon in "
    "Berlin needs a taper week before April.",
]
QUERY = """query($id: ID!) { node(id: $id) { ... on Capture {
    analysisStatus analysisError
    insights { kind text producer }
    concepts { name kind }
    edges(relation: "RELATED_TO") { weight to { id } from { id } }
} } }"""


def _post(base: str, token: str, query: str, variables: dict) -> dict:
    response = httpx.post(
        base + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def test_captures_are_analysed_within_seconds(server):
    token = DevIssuer.load_or_create(server.data_dir).mint("runner@example.com")
    stream = _post(
        server.base_url,
        token,
        'mutation { createStream(input: {name: "Journal", source: NOTE}) { id } }',
        {},
    )["createStream"]["id"]
    ids = []
    for text in PARAGRAPHS:  # one at a time, like a person writing
        result = _post(
            server.base_url,
            token,
            "mutation($i: CaptureInput!) { capture(input: $i) { capture { id } } }",
            {"i": {"streamId": stream, "content": text}},
        )
        ids.append(result["capture"]["capture"]["id"])

    deadline = time.monotonic() + 60
    nodes: dict[str, dict] = {}
    while time.monotonic() < deadline:
        nodes = {i: _post(server.base_url, token, QUERY, {"id": i})["node"] for i in ids}
        if all(n["analysisStatus"] in ("DONE", "FAILED") for n in nodes.values()):
            break
        time.sleep(0.2)  # polling the status the API exposes, bounded by the deadline
    assert all(n["analysisStatus"] == "DONE" for n in nodes.values()), nodes
    for node in nodes.values():
        assert node["insights"] and all(i["producer"].startswith("local") for i in node["insights"])
        assert any(c["name"] == "Maria" for c in node["concepts"]), node["concepts"]
    last = nodes[ids[-1]]
    linked = {e["to"]["id"] for e in last["edges"]} | {e["from"]["id"] for e in last["edges"]}
    assert linked & set(ids[:-1]), last["edges"]
