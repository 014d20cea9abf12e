"""Row-level security, the second wall: the app's request connection cannot
read or write another user's rows even with a query that forgot its filter.

Alice and Bob each create a stream, capture into it and have it analysed
(real insights, concepts, edges, embeddings, events and audit rows). Every
query below runs on ``runtime.db`` — the handle resolvers and loaders use —
with no WHERE clause at all.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.db.engine import create_engine
from lifeos_gql.db.rls import APP_ROLE, check_app_login
from lifeos_gql.db.uow import Database, RequestReader
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.jobs import pipeline
from lifeos_gql.jobs.services import open_analysis_services
from tests.helpers import dev_token, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
CAPTURE = (
    "mutation($i: [CaptureInput!]!) { captureBatch(inputs: $i) { results { capture { id } } } }"
)
TEXT = {
    "alice": "Met Dr. Jane Smith in Berlin to plan the garden project with Acme Corporation.",
    "bob": "Bob ran the Berlin marathon with Maria Garcia; training starts in March.",
}
# Tables whose rows carry the data owner in ``owner_id``.
OWNED = ("streams", "captures", "insights", "insight_sources", "concepts", "edges", "embeddings")
OWNED += ("events", "data_keys")


async def _world(client: Any, settings: Any) -> dict[str, Any]:
    runtime = client.app.state.runtime
    world: dict[str, Any] = {"runtime": runtime}
    captures = []
    for name in ("alice", "bob"):
        token = dev_token(settings.lifeos_data_dir, f"{name}@example.com")
        stream = (await gql(client, CREATE, {"n": f"{name} notes"}, token=token))["data"]
        stream_id = stream["createStream"]["id"]
        body = await gql(
            client, CAPTURE, {"i": [{"streamId": stream_id, "content": TEXT[name]}]}, token=token
        )
        capture = body["data"]["captureBatch"]["results"][0]["capture"]["id"]
        captures.append(decode_global_id(capture).id)
        world[f"{name}_token"] = token
        world[f"{name}_stream"] = decode_global_id(stream_id).id
    async with open_analysis_services(runtime) as services:
        outcome = await pipeline.analyse(services, captures)
    assert len(outcome.done) == 2, outcome.summary()
    async with runtime.system_db.transaction() as uow:
        for name in ("alice", "bob"):
            world[name] = (
                await uow.execute(
                    text("SELECT id FROM users WHERE email = :e"), {"e": f"{name}@example.com"}
                )
            ).scalar_one()
        # Bob's second stream, never shared: grants must not leak it.
        world["bob_private"] = (
            await uow.execute(
                text(
                    "INSERT INTO streams (owner_id, name, source) VALUES (:o, 'private', 'note')"
                    " RETURNING id"
                ),
                {"o": world["bob"]},
            )
        ).scalar_one()
    return world


async def _owners(db: Database, actor: uuid.UUID | None, table: str) -> list[uuid.UUID]:
    async with db.transaction(actor) as uow:
        rows = await uow.execute(text(f"SELECT owner_id FROM {table}"))  # no WHERE, on purpose
        return [row[0] for row in rows]


async def _all_owners(db: Database, table: str) -> list[uuid.UUID]:
    return await _owners(db, None, table)


async def _grant(w: dict[str, Any], role: str) -> None:
    async with w["runtime"].system_db.transaction() as uow:
        await uow.execute(
            text(
                "INSERT INTO grants (owner_id, stream_id, grantee_id, role, created_by)"
                " VALUES (:o, :s, :g, :r, :o)"
            ),
            {"o": w["bob"], "s": w["bob_stream"], "g": w["alice"], "r": role},
        )


async def test_unfiltered_queries_see_only_the_actors_rows(client, settings):
    w = await _world(client, settings)
    db, system = w["runtime"].db, w["runtime"].system_db
    for table in OWNED:
        everyone = await _all_owners(system, table)
        # The privileged handle sees both users' rows, else the test proves nothing.
        assert {w["alice"], w["bob"]} <= set(everyone), table
        seen = await _owners(db, w["alice"], table)
        assert seen and set(seen) == {w["alice"]}, table
        assert len(seen) == everyone.count(w["alice"]), table

    async with db.transaction(w["alice"]) as uow:
        users = {r[0] for r in await uow.execute(text("SELECT id FROM users"))}
        grants = (await uow.execute(text("SELECT count(*) FROM grants"))).scalar_one()
        alice_chains = {r[0] for r in await uow.execute(text("SELECT chain_id FROM audit_log"))}
        captures = (await uow.execute(text("SELECT count(*) FROM captures"))).scalar_one()
    assert users == {w["alice"]}
    assert grants == 0
    async with db.transaction(w["bob"]) as uow:
        bob_chains = {r[0] for r in await uow.execute(text("SELECT chain_id FROM audit_log"))}
    async with system.transaction() as uow:
        all_chains = {r[0] for r in await uow.execute(text("SELECT chain_id FROM audit_log"))}
    assert alice_chains and bob_chains and not alice_chains & bob_chains
    assert alice_chains | bob_chains <= all_chains
    assert captures == 1

    # The index-lookup functions search uses apply the same rule (both texts say Berlin).
    matches = {}
    for actor in (w["alice"], None):
        async with db.transaction(actor) as uow:
            matches[actor] = (
                await uow.execute(
                    text(
                        "SELECT (SELECT array_agg(c.owner_id) FROM captures c WHERE c.id IN ("
                        "  SELECT lifeos_captures_matching(to_tsquery('simple', 'berlin')))),"
                        " (SELECT count(*) FROM lifeos_concepts_named('berlin'))"
                    )
                )
            ).one()
    async with system.transaction() as uow:
        everywhere = (
            await uow.execute(
                text(
                    "SELECT (SELECT count(*) FROM captures WHERE search @@ to_tsquery('simple',"
                    " 'berlin')), (SELECT count(*) FROM concepts WHERE normalized_name = 'berlin')"
                )
            )
        ).one()
    assert everywhere == (2, 2)
    assert matches[w["alice"]][0] == [w["alice"]] and matches[w["alice"]][1] == 1
    assert matches[None] == (None, 0)

    # The loaders' shared read transaction is walled the same way.
    reader = RequestReader(db, w["alice"])
    try:
        async with reader.use() as uow:
            owners = {r[0] for r in await uow.execute(text("SELECT owner_id FROM concepts"))}
    finally:
        await reader.close()
    assert owners == {w["alice"]}


async def test_anonymous_transaction_sees_nothing(client, settings):
    w = await _world(client, settings)
    async with w["runtime"].db.transaction() as uow:
        tables = [
            r[0]
            for r in await uow.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = current_schema() AND c.relrowsecurity"
                )
            )
        ]
        counts = {
            t: (await uow.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in tables
        }
    assert {"users", "streams", "captures", "audit_log", "grants"} <= set(counts)
    assert counts == dict.fromkeys(tables, 0)


async def _refused(db: Database, actor: uuid.UUID, sql: str, params: dict[str, Any]) -> str:
    with pytest.raises(DBAPIError) as caught:
        async with db.transaction(actor) as uow:
            await uow.execute(text(sql), params)
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege)
    return str(caught.value.orig)


async def _rowcount(db: Database, actor: uuid.UUID, sql: str, params: dict[str, Any]) -> int:
    async with db.transaction(actor) as uow:
        return (await uow.execute(text(sql), params)).rowcount


INSERT_CAPTURE = (
    "INSERT INTO captures (owner_id, stream_id, author_id, occurred_at, content_hash)"
    " VALUES (:owner, :stream, :author, now(), :hash)"
)


async def test_writes_to_another_users_rows_are_refused(client, settings):
    w = await _world(client, settings)
    db, alice, bob = w["runtime"].db, w["alice"], w["bob"]
    capture = {"stream": w["bob_stream"], "author": alice, "hash": uuid.uuid4().bytes}
    for owner in (bob, alice):  # as Bob's, or disguised as Alice's own
        message = await _refused(db, alice, INSERT_CAPTURE, {**capture, "owner": owner})
        assert "row-level security" in message
    await _refused(
        db,
        alice,
        "INSERT INTO streams (owner_id, name, source) VALUES (:o, 'x', 'note')",
        {"o": bob},
    )
    await _refused(
        db,
        alice,
        "INSERT INTO edges (owner_id, from_type, from_id, to_type, to_id, relation, producer)"
        " VALUES (:o, 'concept', gen_random_uuid(), 'concept', gen_random_uuid(), 'x', 'USER')",
        {"o": bob},
    )
    await _refused(
        db,
        alice,
        "INSERT INTO grants (owner_id, stream_id, grantee_id, role) VALUES (:o, :s, :g, 'OWNER')",
        {"o": bob, "s": w["bob_stream"], "g": alice},
    )
    # UPDATE and DELETE of rows outside the policy touch nothing.
    for sql in (
        "UPDATE streams SET name = 'pwned'",
        "UPDATE captures SET analysis_status = 'FAILED'",
        "UPDATE concepts SET name = 'pwned' WHERE owner_id = :bob",
        "DELETE FROM edges WHERE owner_id = :bob",
        "DELETE FROM captures WHERE owner_id = :bob",
        "UPDATE users SET name = 'pwned' WHERE id = :bob",
    ):
        await _rowcount(db, alice, sql, {"bob": bob})
    async with w["runtime"].system_db.transaction() as uow:
        bob_rows = (
            await uow.execute(
                text(
                    "SELECT (SELECT count(*) FROM streams WHERE owner_id = :b AND name <> 'pwned'),"
                    " (SELECT count(*) FROM captures WHERE owner_id = :b"
                    "   AND analysis_status <> 'FAILED'),"
                    " (SELECT count(*) FROM edges WHERE owner_id = :b),"
                    " (SELECT count(*) FROM concepts WHERE owner_id = :b AND name = 'pwned'),"
                    " (SELECT count(*) FROM users WHERE id = :b AND name IS DISTINCT FROM 'pwned')"
                ),
                {"b": bob},
            )
        ).one()
    assert bob_rows[0] == 2 and bob_rows[1] == 1 and bob_rows[2] > 0
    assert bob_rows[3] == 0 and bob_rows[4] == 1


async def test_viewer_grant_reveals_the_stream_but_not_for_writing(client, settings):
    w = await _world(client, settings)
    db, alice, bob = w["runtime"].db, w["alice"], w["bob"]
    await _grant(w, "VIEWER")
    async with db.transaction(alice) as uow:
        streams = {r[0] for r in await uow.execute(text("SELECT id FROM streams"))}
        captures = {r[0] for r in await uow.execute(text("SELECT stream_id FROM captures"))}
        users = {r[0] for r in await uow.execute(text("SELECT id FROM users"))}
        grants = (await uow.execute(text("SELECT grantee_id FROM grants"))).scalars().all()
    assert streams == {w["alice_stream"], w["bob_stream"]}  # not Bob's private stream
    assert captures == {w["alice_stream"], w["bob_stream"]}
    assert users == {alice, bob}
    assert grants == [alice]
    for table in ("insights", "concepts", "edges"):
        assert set(await _owners(db, alice, table)) == {alice, bob}, table

    capture = {"owner": bob, "stream": w["bob_stream"], "author": alice, "hash": b"v" * 32}
    await _refused(db, alice, INSERT_CAPTURE, capture)
    assert await _rowcount(db, alice, "UPDATE captures SET analysis_status = 'FAILED'", {}) == 1
    await _refused(
        db,
        alice,
        "INSERT INTO edges (owner_id, from_type, from_id, to_type, to_id, relation, producer)"
        " VALUES (:o, 'concept', gen_random_uuid(), 'concept', gen_random_uuid(), 'x', 'USER')",
        {"o": bob},
    )
    async with w["runtime"].system_db.transaction() as uow:
        failed = (
            await uow.execute(
                text(
                    "SELECT count(*) FROM captures WHERE analysis_status = 'FAILED' AND owner_id = :b"
                ),
                {"b": bob},
            )
        ).scalar_one()
    assert failed == 0  # the one row updated above was Alice's own


async def test_collaborator_grant_allows_captures_into_that_stream_only(client, settings):
    w = await _world(client, settings)
    db, alice, bob = w["runtime"].db, w["alice"], w["bob"]
    await _grant(w, "COLLABORATOR")
    capture = {"owner": bob, "stream": w["bob_stream"], "author": alice, "hash": b"c" * 32}
    assert await _rowcount(db, alice, INSERT_CAPTURE, capture) == 1
    await _refused(db, alice, INSERT_CAPTURE, {**capture, "stream": w["bob_private"]})
    # A collaborator still cannot delete the owner's data or rename the stream.
    assert await _rowcount(db, alice, "DELETE FROM captures WHERE owner_id = :b", {"b": bob}) == 0
    assert (
        await _rowcount(db, alice, "UPDATE streams SET name = 'x' WHERE owner_id = :b", {"b": bob})
        == 0
    )


async def test_every_owner_table_has_rls_and_a_policy(db_url):
    """A table added later with an ``owner_id`` column cannot slip past the wall."""
    with psycopg.connect(libpq_url(db_url)) as conn:
        unprotected = conn.execute(
            """
            SELECT c.relname, c.relrowsecurity,
                   (SELECT count(*) FROM pg_policies p
                    WHERE p.schemaname = n.nspname AND p.tablename = c.relname)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner_id'
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
              AND NOT (c.relrowsecurity AND EXISTS (
                  SELECT 1 FROM pg_policies p
                  WHERE p.schemaname = n.nspname AND p.tablename = c.relname))
            """
        ).fetchall()
        # What the app role may touch at all: RLS tables, plus the job queue.
        reachable = conn.execute(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
              AND has_table_privilege(%s, c.oid, 'SELECT,INSERT,UPDATE,DELETE')
              AND NOT c.relrowsecurity AND c.relname NOT LIKE 'procrastinate\\_%%'
            """,
            (APP_ROLE,),
        ).fetchall()
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s",
            (APP_ROLE,),
        ).fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", (APP_ROLE,)
        ).fetchone()
    assert unprotected == []
    assert reachable == []
    assert role == (False, False, True)  # the request path logs in as it
    assert owned == (0,)  # an owner would skip its own table's policies


async def test_request_path_logs_in_as_the_app_role(client, settings, db_url):
    """The request pool's login is ``lifeos_app`` itself: nothing to reset back from.

    ``RESET ROLE`` inside a request connection stays ``lifeos_app``, the actor
    ends with the transaction, and start-up refuses an app login that is a
    superuser (or cannot log in). See ``lifeos_gql.db.rls`` for what the
    wall does not stop.
    """
    runtime = client.app.state.runtime
    user = uuid.uuid4()
    async with runtime.db.transaction(user) as uow:
        inside = (
            await uow.execute(
                text("SELECT current_user, current_setting('lifeos.actor_id'), session_user")
            )
        ).one()
        await uow.execute(text("RESET ROLE"))
        after_reset = (await uow.execute(text("SELECT current_user"))).scalar_one()
        assert (await uow.execute(text("SELECT count(*) FROM users"))).scalar_one() == 0
    assert inside == (APP_ROLE, str(user), APP_ROLE)
    assert after_reset == APP_ROLE
    async with runtime.db.engine.connect() as conn:
        after = (
            await conn.execute(
                text("SELECT current_user, current_setting('lifeos.actor_id', true)")
            )
        ).one()
    assert after == (APP_ROLE, "")
    async with runtime.system_db.transaction(user) as uow:
        privileged = (await uow.execute(text("SELECT current_user"))).scalar_one()
    assert privileged != APP_ROLE

    # The privileged login as the "app" login: refused, it would bypass RLS.
    with pytest.raises(ConfigError, match="SUPERUSER or BYPASSRLS") as caught:
        await check_app_login(runtime.system_db.engine)
    assert "\n" not in str(caught.value)
    login = f"lifeos_t_{uuid.uuid4().hex[:8]}"  # no such role: the login fails
    url = make_url(db_url).set(username=login, password=None)
    engine = create_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        with pytest.raises(ConfigError, match=f"cannot log in as {APP_ROLE}"):
            await check_app_login(engine)
    finally:
        await engine.dispose()
