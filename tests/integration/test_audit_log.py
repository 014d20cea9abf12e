"""The audit log: append-only in the database, pseudonymous, readable by its owner only.

Real app, real Postgres: GraphQL mutations write the rows, ``me.auditLog``
reads them, triggers refuse changes, and deleting a user row (what erasure
does) leaves a trail that verifies and no longer contains the user's id.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lifeos_gql.core.errors import Unauthenticated
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.audit.auth_failures import ACTION as AUTH_FAILURES
from lifeos_gql.domains.audit.auth_failures import AuthFailureLog
from tests.helpers import error_codes, gql
from tests.integration.test_rest_ingest import make_stream, runtime_of, sign_up

TRAIL = """
query($first: Int, $after: String) {
  me {
    auditLog(first: $first, after: $after) {
      edges { cursor node { seq action targetType targetId details actorIsYou } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
CREATE_STREAM = """
mutation($name: String!) { createStream(input: {name: $name, source: NOTE}) { id } }
"""


async def grant(client: Any, stream_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    """Give ``user_id`` a role on the stream (privileged: set-up, not a use case)."""
    async with runtime_of(client).system_db.transaction() as uow:
        await uow.execute(
            text(
                "INSERT INTO grants (owner_id, stream_id, grantee_id, role)"
                " SELECT owner_id, id, :u, :r FROM streams WHERE id = :s"
            ),
            {"s": stream_id, "u": user_id, "r": role},
        )


async def trail(client: Any, token: str, first: int = 100) -> list[dict[str, Any]]:
    """Every entry of the caller's trail, page by page (newest first)."""
    entries: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        body = await gql(client, TRAIL, {"first": first, "after": after}, token=token)
        assert "errors" not in body, body
        page = body["data"]["me"]["auditLog"]
        entries += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return entries
        after = page["pageInfo"]["endCursor"]


async def audit_text_mentions(client: Any, needle: str) -> int:
    """Rows of the audit tables whose text (every column) contains ``needle``."""
    async with runtime_of(client).system_db.transaction() as uow:
        row = (
            await uow.execute(
                text(
                    "SELECT (SELECT count(*) FROM audit_log t WHERE t::text ILIKE :n)"
                    " + (SELECT count(*) FROM audit_heads t WHERE t::text ILIKE :n)"
                ),
                {"n": f"%{needle}%"},
            )
        ).scalar_one()
    return int(row)


async def all_chains_verify(client: Any) -> dict[str, bool]:
    return {r.chain_id: r.ok async for r in audit.verify_chains(runtime_of(client).system_db)}


async def test_audit_log_refuses_update_delete_and_truncate(client: Any, settings: Any) -> None:
    _token, alice = await sign_up(client, settings, "alice@example.com")
    await make_stream(client, alice)
    rt = runtime_of(client)

    async def snapshot() -> list[tuple[Any, ...]]:
        async with rt.system_db.transaction() as uow:
            rows = await uow.execute(text("SELECT * FROM audit_log ORDER BY id"))
            return [tuple(r) for r in rows]

    before = await snapshot()
    assert before
    statements = (
        "UPDATE audit_log SET action = 'nothing.happened'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_heads SET last_seq = last_seq - 1",
        "DELETE FROM audit_heads",
    )
    for statement in statements:
        # The privileged connection owns the table: only the triggers stop it.
        with pytest.raises(DBAPIError, match=r"append-only|only move forward"):
            async with rt.system_db.transaction() as uow:
                await uow.execute(text(statement))
    for statement in statements[:3]:
        # The request path's role: refused or filtered to nothing, never applied.
        try:
            async with rt.db.transaction(alice) as uow:
                await uow.execute(text(statement))
        except DBAPIError:
            pass
    assert await snapshot() == before
    assert all((await all_chains_verify(client)).values())


async def test_a_row_that_does_not_extend_its_chain_is_refused(client: Any, settings: Any) -> None:
    _token, alice = await sign_up(client, settings, "alice@example.com")
    await make_stream(client, alice)
    async with runtime_of(client).system_db.transaction() as uow:
        [chain] = (
            await uow.execute(text("SELECT DISTINCT chain_id FROM audit_log WHERE seq = 1"))
        ).scalars()
    with pytest.raises(DBAPIError, match="does not extend chain"):
        async with runtime_of(client).system_db.transaction() as uow:
            await uow.execute(
                text(
                    "INSERT INTO audit_log (chain_id, seq, action, row_hash)"
                    " VALUES (:c, 5, 'forged', '\\x00')"
                ),
                {"c": chain},
            )


async def test_owners_read_their_own_trail_newest_first(client: Any, settings: Any) -> None:
    alice_token, alice = await sign_up(client, settings, "alice@example.com")
    bob_token, bob = await sign_up(client, settings, "bob@example.com")
    created = await gql(client, CREATE_STREAM, {"name": "Journal"}, token=alice_token)
    stream_ref = created["data"]["createStream"]["id"]
    renamed = await gql(
        client,
        'mutation($id: ID!) { renameStream(id: $id, name: "Diary") { id } }',
        {"id": stream_ref},
        token=alice_token,
    )
    assert "errors" not in renamed
    bobs = await gql(client, CREATE_STREAM, {"name": "Bob's"}, token=bob_token)
    bobs_ref = bobs["data"]["createStream"]["id"]

    # Bob collaborates on Alice's stream; what he does there lands in her trail.
    stream_id = decode_global_id(stream_ref).id
    await grant(client, stream_id, bob, "COLLABORATOR")
    async with runtime_of(client).db.transaction(bob) as uow:
        await audit.record(
            uow=uow,
            owner_id=alice,
            action="test.collaborator_did",
            target_type="Stream",
            target_id=str(stream_id),
            details={"by": str(bob)},
        )

    mine = await trail(client, alice_token)
    assert [e["action"] for e in mine] == [
        "test.collaborator_did",
        "stream.rename",
        "stream.create",
    ]
    assert [e["seq"] for e in mine] == [3, 2, 1]
    assert [e["actorIsYou"] for e in mine] == [False, True, True]
    assert {e["targetId"] for e in mine} == {stream_ref}
    assert mine[2]["details"] == {"source": "note"}
    # Bob appears by pseudonym, not by id.
    assert mine[0]["details"]["by"].startswith("p_") and str(bob) not in str(mine)

    # Small pages walk the same entries, with no overlap and no gap.
    assert await trail(client, alice_token, first=1) == mine
    assert [e["targetId"] for e in await trail(client, bob_token)] == [bobs_ref]

    bad = await gql(client, TRAIL, {"first": 1, "after": "not-a-cursor"}, token=alice_token)
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    anonymous = await gql(client, TRAIL, {"first": 1})
    assert anonymous["data"] == {"me": None}


async def test_nobody_reads_another_users_trail(client: Any, settings: Any) -> None:
    alice_token, alice = await sign_up(client, settings, "alice@example.com")
    _bob_token, bob = await sign_up(client, settings, "bob@example.com")
    bob_token = _bob_token
    stream_id = await make_stream(client, alice)
    await grant(client, stream_id, bob, "VIEWER")
    query = """
    query($id: ID!) {
      stream(id: $id) { owner { id auditLog { edges { node { action } } } } }
    }
    """
    ref = encode_global_id("Stream", stream_id)
    as_bob = await gql(client, query, {"id": ref}, token=bob_token)
    owner = as_bob["data"]["stream"]["owner"]
    assert owner is not None and owner["id"] == encode_global_id("User", alice)
    assert owner["auditLog"] is None
    assert error_codes(as_bob) == ["FORBIDDEN"]
    as_alice = await gql(client, query, {"id": ref}, token=alice_token)
    assert [e["node"]["action"] for e in as_alice["data"]["stream"]["owner"]["auditLog"]["edges"]]


async def test_rows_never_hold_user_ids_and_survive_erasure(client: Any, settings: Any) -> None:
    alice_token, alice = await sign_up(client, settings, "alice@example.com")
    _bob_token, bob = await sign_up(client, settings, "bob@example.com")
    created = await gql(client, CREATE_STREAM, {"name": "Journal"}, token=alice_token)
    stream_id = decode_global_id(created["data"]["createStream"]["id"]).id
    rt = runtime_of(client)
    # Bob's chain mentions Alice as a target and in details; Alice's mentions Bob.
    async with rt.system_db.transaction(bob) as uow:
        await audit.record(
            uow=uow,
            owner_id=bob,
            action="test.shared_with",
            target_type="User",
            target_id=str(alice),
            details={"granteeId": str(alice), "ids": [str(alice), str(stream_id)]},
        )
        await audit.record(uow=uow, owner_id=alice, action="test.by_bob")
    async with rt.system_db.transaction() as uow:
        alice_alias = await audit.pseudonym_for(uow, alice)
        bob_alias = await audit.pseudonym_for(uow, bob)
        assert await audit.pseudonyms_for(uow, [alice, bob, uuid.uuid4()]) == {
            alice: alice_alias,
            bob: bob_alias,
        }
    assert re.fullmatch(r"p_[0-9a-f]{32}", alice_alias) and alice_alias != bob_alias
    for user in (alice, bob):
        assert await audit_text_mentions(client, str(user)) == 0
    assert await audit_text_mentions(client, alice_alias) > 0

    # Erasure deletes the user row; the pseudonym mapping goes with it.
    async with rt.system_db.transaction() as uow:
        await uow.execute(text("DELETE FROM users WHERE id = :id"), {"id": alice})
        mapped = await uow.execute(
            text("SELECT count(*) FROM audit_pseudonyms WHERE user_id = :id"), {"id": alice}
        )
        assert mapped.scalar_one() == 0
        with pytest.raises(LookupError):
            await audit.pseudonym_for(uow, alice)

    assert await audit_text_mentions(client, str(alice)) == 0
    # Her chain is still there, whole, under a name that now leads nowhere.
    chains = await all_chains_verify(client)
    assert chains[f"user:{alice_alias}"] and all(chains.values()), chains
    mine = await trail(client, _bob_token)
    assert mine[0]["targetId"] == alice_alias
    assert mine[0]["details"]["granteeId"] == alice_alias


async def test_every_mutation_writes_a_row(client: Any, settings: Any) -> None:
    token, _alice = await sign_up(client, settings, "alice@example.com")
    created = await gql(client, CREATE_STREAM, {"name": "Journal"}, token=token)
    stream = created["data"]["createStream"]["id"]
    operations: list[tuple[str, dict[str, Any]]] = [
        ('mutation($s: ID!) { renameStream(id: $s, name: "Diary") { id } }', {"s": stream}),
        (
            'mutation($s: ID!) { capture(input: {streamId: $s, content: "one"})'
            " { capture { id } } }",
            {"s": stream},
        ),
        (
            'mutation($s: ID!) { captureBatch(inputs: [{streamId: $s, content: "two"}])'
            " { results { capture { id } } } }",
            {"s": stream},
        ),
    ]
    captured: list[str] = []
    for query, variables in operations:
        body = await gql(client, query, variables, token=token)
        assert "errors" not in body, body
        data = body["data"]
        if "capture" in data:
            captured.append(data["capture"]["capture"]["id"])
        if "captureBatch" in data:
            captured.append(data["captureBatch"]["results"][0]["capture"]["id"])
    follow_ups: list[tuple[str, dict[str, Any]]] = [
        ("mutation($ids: [ID!]!) { requestAnalysis(captureIds: $ids) { id } }", {"ids": captured}),
        (
            'mutation($a: ID!, $b: ID!) { linkNodes(from: $a, to: $b, relation: "ECHOES") { id } }',
            {"a": captured[0], "b": captured[1]},
        ),
        (
            'mutation($s: ID!) { createIngestToken(streamId: $s, name: "tablet") { id } }',
            {"s": stream},
        ),
    ]
    results = []
    for query, variables in follow_ups:
        body = await gql(client, query, variables, token=token)
        assert "errors" not in body, body
        results.append(body["data"])
    edge = results[1]["linkNodes"]["id"]
    token_id = results[2]["createIngestToken"]["id"]
    for query, variables in [
        ("mutation($e: ID!) { unlinkNodes(edgeId: $e) { id } }", {"e": edge}),
        ("mutation($t: ID!) { revokeIngestToken(id: $t) }", {"t": token_id}),
        ("mutation($s: ID!) { deleteStream(id: $s) { deletedId } }", {"s": stream}),
    ]:
        body = await gql(client, query, variables, token=token)
        assert "errors" not in body, body

    actions = [e["action"] for e in reversed(await trail(client, token))]
    assert actions == [
        "stream.create",
        "stream.rename",
        "capture.create",
        "capture.create",
        "capture.request_analysis",
        "graph.link_nodes",
        "ingest_token.create",
        "graph.unlink_nodes",
        "ingest_token.revoke",
        "stream.delete",
    ]
    assert all((await all_chains_verify(client)).values())


async def test_failed_authentications_are_aggregated(client: Any, settings: Any) -> None:
    rt = runtime_of(client)
    failures = rt.authenticator.failures
    for _ in range(40):
        response = await client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Bearer junk"}
        )
        assert response.status_code == 401
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Basic abc"}
    )
    assert response.status_code == 401
    # Callers without an HTTP client address (a WebSocket's connection_init)
    # are counted too.
    with pytest.raises(Unauthenticated):
        await rt.authenticator.authenticate("Bearer junk")
    assert failures.pending == 42

    assert await failures.flush() is True
    assert await failures.flush() is False  # nothing new: no row
    async with rt.system_db.transaction() as uow:
        rows = (
            await uow.execute(
                text("SELECT chain_id, actor, details FROM audit_log WHERE action = :a"),
                {"a": AUTH_FAILURES},
            )
        ).all()
    assert len(rows) == 1  # 42 failures, one row
    [(chain, actor, details)] = rows
    assert (chain, actor) == ("system", None)
    assert details["total"] == 42
    by_source = {(f["reason"], f["ip"]): f["count"] for f in details["failures"]}
    assert by_source[("bad_scheme", "127.0.0.1")] == 1
    assert sum(by_source.values()) == 42
    assert {ip for _, ip in by_source} == {"127.0.0.1", "unknown"}
    assert max(by_source.values()) == 40  # one (reason, ip) pair, one count
    assert all((await all_chains_verify(client)).values())


async def test_failure_rows_stay_small_under_many_sources(client: Any) -> None:
    rt = runtime_of(client)
    failures = AuthFailureLog(rt.system_db, max_sources=5, max_listed=2)
    for i in range(500):
        failures.note("invalid_signature", f"192.0.2.{i % 100}")
    assert await failures.flush()
    await failures.aclose()
    async with rt.system_db.transaction() as uow:
        [details] = (
            await uow.execute(
                text("SELECT details FROM audit_log WHERE action = :a"), {"a": AUTH_FAILURES}
            )
        ).scalars()
    assert details["total"] == 500 and details["sources"] == 5
    assert len(details["failures"]) == 2
    assert sum(f["count"] for f in details["failures"]) + details["otherCount"] == 500


async def test_concurrent_appends_keep_one_unbroken_chain(client: Any, settings: Any) -> None:
    _token, alice = await sign_up(client, settings, "alice@example.com")
    rt = runtime_of(client)

    async def append(n: int) -> None:
        async with rt.system_db.transaction(alice) as uow:
            # Numbers jsonb prints differently from Python (1e20) must still verify.
            details = {"n": n, "big": 1e20 * (n + 1), "tiny": 1.5e-7, "ratio": n / 7}
            await audit.record(uow=uow, owner_id=alice, action="test.append", details=details)

    await asyncio.gather(*(append(n) for n in range(12)))
    async with rt.system_db.transaction() as uow:
        chain = audit.chain_of(await audit.pseudonym_for(uow, alice))
        seqs = (
            await uow.execute(
                text("SELECT seq FROM audit_log WHERE chain_id = :c ORDER BY seq"), {"c": chain}
            )
        ).scalars()
        assert list(seqs) == list(range(1, 13))
    assert all((await all_chains_verify(client)).values())
