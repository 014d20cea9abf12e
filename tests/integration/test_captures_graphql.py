"""Streams and captures over GraphQL: CRUD, ingest, dedup, pagination, encryption."""

from __future__ import annotations

import psycopg

from lifeos_gql.db.urls import libpq_url
from tests.helpers import dev_token, error_codes, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id name source myRole } }"
BATCH = """
mutation($inputs: [CaptureInput!]!) {
  captureBatch(inputs: $inputs) {
    createdCount duplicateCount invalidCount
    results { index status duplicateReason capture { id title content data } error { code field } }
  }
}"""
CAPTURE = """
mutation($input: CaptureInput!) {
  capture(input: $input) { status duplicateReason capture { id title content data occurredAt analysisStatus stream { id } } }
}"""


async def _stream(client, token, name="Journal"):
    body = await gql(client, CREATE, {"n": name}, token=token)
    return body["data"]["createStream"]


async def test_create_stream_and_list(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    created = await _stream(client, alice)
    assert created["myRole"] == "OWNER" and created["source"] == "NOTE"
    for i in range(3):
        await _stream(client, alice, f"S{i}")
    page1 = await gql(
        client,
        "{ me { streams(first: 2) { nodes { name } pageInfo { hasNextPage endCursor } } } }",
        token=alice,
    )
    conn = page1["data"]["me"]["streams"]
    assert [n["name"] for n in conn["nodes"]] == ["Journal", "S0"]
    assert conn["pageInfo"]["hasNextPage"] is True
    page2 = await gql(
        client,
        "query($a: String) { me { streams(first: 5, after: $a) { nodes { name } pageInfo { hasNextPage } } } }",
        {"a": conn["pageInfo"]["endCursor"]},
        token=alice,
    )
    assert [n["name"] for n in page2["data"]["me"]["streams"]["nodes"]] == ["S1", "S2"]
    assert page2["data"]["me"]["streams"]["pageInfo"]["hasNextPage"] is False


async def test_rename_delete_owner_only(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    stream = await _stream(client, alice)
    renamed = await gql(
        client,
        'mutation($id: ID!) { renameStream(id: $id, name: "  Diary  ") { name } }',
        {"id": stream["id"]},
        token=alice,
    )
    assert renamed["data"]["renameStream"]["name"] == "Diary"
    stranger = await gql(
        client,
        'mutation($id: ID!) { renameStream(id: $id, name: "x") { name } }',
        {"id": stream["id"]},
        token=bob,
    )
    assert error_codes(stranger) == ["NOT_FOUND"]
    empty = await gql(
        client,
        'mutation($id: ID!) { renameStream(id: $id, name: "   ") { name } }',
        {"id": stream["id"]},
        token=alice,
    )
    assert error_codes(empty) == ["BAD_USER_INPUT"]
    deleted = await gql(
        client,
        "mutation($id: ID!) { deleteStream(id: $id) { deletedId } }",
        {"id": stream["id"]},
        token=alice,
    )
    assert deleted["data"]["deleteStream"]["deletedId"] == stream["id"]
    gone = await gql(
        client, "query($id: ID!) { stream(id: $id) { id } }", {"id": stream["id"]}, token=alice
    )
    assert gone["data"]["stream"] is None


async def test_capture_is_encrypted_at_rest(client, settings, db_url):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = await _stream(client, alice)
    canary = "CANARY-7f3a9b-the-secret-diary-line"
    body = await gql(
        client,
        CAPTURE,
        {
            "input": {
                "streamId": stream["id"],
                "title": f"title {canary}",
                "content": f"content {canary}",
                "data": {"note": canary},
            }
        },
        token=alice,
    )
    result = body["data"]["capture"]
    assert result["status"] == "CREATED"
    assert canary in result["capture"]["content"] and result["capture"]["data"] == {"note": canary}
    assert result["capture"]["analysisStatus"] == "PENDING"
    assert result["capture"]["stream"]["id"] == stream["id"]
    with psycopg.connect(libpq_url(db_url)) as conn:
        dump = conn.execute("SELECT captures::text FROM captures").fetchall()
        raw = conn.execute("SELECT title_enc, content_enc, data_enc FROM captures").fetchall()
    assert dump and all(canary not in row[0] for row in dump)
    assert all(canary.encode() not in bytes(col) for row in raw for col in row)
    fetched = await gql(
        client,
        "query($id: ID!) { node(id: $id) { ... on Capture { content title } } }",
        {"id": result["capture"]["id"]},
        token=alice,
    )
    assert fetched["data"]["node"]["content"] == f"content {canary}"


async def test_batch_retried_three_times_stores_once(client, settings, db_url):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = await _stream(client, alice)
    inputs = [
        {
            "streamId": stream["id"],
            "title": f"item {i}",
            "content": f"body of item {i}",
            "externalId": f"ext-{i}" if i % 2 else None,
        }
        for i in range(1000)
    ]
    first = (await gql(client, BATCH, {"inputs": inputs}, token=alice))["data"]["captureBatch"]
    assert first["createdCount"] == 1000
    ids = [r["capture"]["id"] for r in first["results"]]
    for _ in range(3):
        retry = (await gql(client, BATCH, {"inputs": inputs}, token=alice))["data"]["captureBatch"]
        assert retry["createdCount"] == 0 and retry["duplicateCount"] == 1000
        assert [r["capture"]["id"] for r in retry["results"]] == ids
        reasons = {r["duplicateReason"] for r in retry["results"]}
        assert reasons == {"EXTERNAL_ID", "CONTENT_HASH"}
    with psycopg.connect(libpq_url(db_url)) as conn:
        assert conn.execute("SELECT count(*) FROM captures").fetchone()[0] == 1000


async def test_batch_reports_bad_items_and_stores_good(client, settings, db_url):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    stream = await _stream(client, alice)
    bobs = await _stream(client, bob, "Bob's")
    big = "x" * (settings.lifeos_max_content_bytes + 1)
    inputs = [
        {"streamId": stream["id"], "content": "good one"},
        {"streamId": stream["id"], "content": big},
        {"streamId": stream["id"], "content": "   "},
        {"streamId": stream["id"], "content": "bad time", "occurredAt": "1800-01-01T00:00:00Z"},
        {"streamId": bobs["id"], "content": "not my stream"},
        {"streamId": stream["id"], "content": "good two", "externalId": "e1"},
        {"streamId": stream["id"], "content": "same ext again", "externalId": "e1"},
    ]
    payload = (await gql(client, BATCH, {"inputs": inputs}, token=alice))["data"]["captureBatch"]
    statuses = [(r["status"], (r["error"] or {}).get("code")) for r in payload["results"]]
    assert statuses == [
        ("CREATED", None),
        ("INVALID", "TOO_LARGE"),
        ("INVALID", "EMPTY"),
        ("INVALID", "INVALID_TIMESTAMP"),
        ("INVALID", "NOT_FOUND"),
        ("CREATED", None),
        ("DUPLICATE", None),
    ]
    assert (payload["createdCount"], payload["duplicateCount"], payload["invalidCount"]) == (
        2,
        1,
        4,
    )
    with psycopg.connect(libpq_url(db_url)) as conn:
        assert conn.execute("SELECT count(*) FROM captures").fetchone()[0] == 2
        audit = conn.execute(
            "SELECT action, details->>'count' FROM audit_log WHERE action = 'capture.create'"
        ).fetchall()
    assert audit == [("capture.create", "2")]


async def test_single_capture_errors_are_coded(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = await _stream(client, alice)
    body = await gql(
        client, CAPTURE, {"input": {"streamId": stream["id"], "content": ""}}, token=alice
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(
        client, CAPTURE, {"input": {"streamId": "garbage", "content": "x"}}, token=alice
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    anon = await gql(client, CAPTURE, {"input": {"streamId": stream["id"], "content": "x"}})
    assert error_codes(anon) == ["UNAUTHENTICATED"]


async def test_idempotency_key_replays_first_response(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = await _stream(client, alice)
    variables = {"inputs": [{"streamId": stream["id"], "content": "once"}]}
    headers = {"Authorization": f"Bearer {alice}", "Idempotency-Key": "req-1"}
    first = (
        await client.post(
            "/graphql", json={"query": BATCH, "variables": variables}, headers=headers
        )
    ).json()
    again = (
        await client.post(
            "/graphql", json={"query": BATCH, "variables": variables}, headers=headers
        )
    ).json()
    assert first["data"] == again["data"]
    assert again["data"]["captureBatch"]["createdCount"] == 1
    other = {"inputs": [{"streamId": stream["id"], "content": "different"}]}
    clash = (
        await client.post("/graphql", json={"query": BATCH, "variables": other}, headers=headers)
    ).json()
    assert error_codes(clash) == ["CONFLICT"]


async def test_timeline_keyset_and_time_filters(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = await _stream(client, alice)
    inputs = [
        {
            "streamId": stream["id"],
            "content": f"day {d}",
            "occurredAt": f"2026-01-{d:02d}T12:00:00Z",
        }
        for d in range(1, 11)
    ]
    await gql(client, BATCH, {"inputs": inputs}, token=alice)
    query = """query($a: String, $f: DateTime, $t: DateTime) {
      timeline(first: 4, after: $a, from: $f, to: $t) { nodes { content } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await gql(client, query, {"a": after}, token=alice))["data"]["timeline"]
        seen += [n["content"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"day {d}" for d in range(10, 0, -1)]
    window = (
        await gql(
            client, query, {"f": "2026-01-03T00:00:00Z", "t": "2026-01-05T00:00:00Z"}, token=alice
        )
    )["data"]["timeline"]
    assert [n["content"] for n in window["nodes"]] == ["day 4", "day 3"]
    bob = dev_token(settings.lifeos_data_dir, "bob@example.com")
    assert (await gql(client, query, {}, token=bob))["data"]["timeline"]["nodes"] == []
    bad = await gql(client, query, {"a": "!!!"}, token=alice)
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_bad_datetime_is_a_coded_input_error(client, settings):
    alice = dev_token(settings.lifeos_data_dir, "alice@example.com")
    stream = await _stream(client, alice)
    body = await gql(
        client,
        BATCH,
        {"inputs": [{"streamId": stream["id"], "content": "x", "occurredAt": "yesterday"}]},
        token=alice,
    )
    assert body.get("data") is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "ISO 8601" in body["errors"][0]["message"]
