"""``@requiresRole``: printed in the SDL, enforced per field, batched per level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifeos_gql.config import Settings
from lifeos_gql.db.engine import count_statements
from tests.helpers import error_codes, gql
from tests.integration.test_sharing import make_stream, share, sign_up

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
CAPTURE = """
mutation($s: ID!) {
  capture(input: {streamId: $s, title: "t", content: "c", data: {raw: 1}}) { capture { id } }
}"""
READ = """
query($s: ID!) {
  stream(id: $s) { name captures { nodes { title content data } } }
}"""
MANY = """
{ me { streams(first: 20) { nodes { name myRole grants { role grantee { email } invitedEmail } } } } }
"""


def test_schema_prints_the_directive_on_guarded_fields() -> None:
    sdl = SCHEMA_FILE.read_text(encoding="utf-8")
    assert "directive @requiresRole(role: Role!) on FIELD_DEFINITION" in sdl
    assert "grants: [Grant!] @requiresRole(role: OWNER)" in sdl
    assert "personas: [Persona!] @requiresRole(role: OWNER)" in sdl
    assert "data: JSON @requiresRole(role: COLLABORATOR)" in sdl
    assert "invitedEmail: String @requiresRole(role: OWNER)" in sdl


async def test_capture_data_needs_collaborator(client: Any, settings: Settings) -> None:
    alice = await sign_up(client, settings, "alice@example.com")
    viewer = await sign_up(client, settings, "viewer@example.com")
    collaborator = await sign_up(client, settings, "collab@example.com")
    stream = await make_stream(client, alice)
    await gql(client, CAPTURE, {"s": stream}, token=alice.token)
    await share(client, alice, stream, viewer.email, "VIEWER")
    await share(client, alice, stream, collaborator.email, "COLLABORATOR")

    for who in (alice, collaborator):
        body = await gql(client, READ, {"s": stream}, token=who.token)
        assert not body.get("errors"), body
        [node] = body["data"]["stream"]["captures"]["nodes"]
        assert node == {"title": "t", "content": "c", "data": {"raw": 1}}

    body = await gql(client, READ, {"s": stream}, token=viewer.token)
    [node] = body["data"]["stream"]["captures"]["nodes"]
    assert node == {"title": "t", "content": "c", "data": None}  # the rest still resolves
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["stream", "captures", "nodes", 0, "data"]
    assert body["errors"][0]["extensions"]["requiredRole"] == "COLLABORATOR"


async def _statements_for_grants(client: Any, settings: Settings, owner: str, n: int) -> int:
    alice = await sign_up(client, settings, owner)
    streams = [await make_stream(client, alice, f"s{i}") for i in range(n)]
    for i, stream in enumerate(streams):
        await share(client, alice, stream, f"friend{i}@example.com", "VIEWER")
        await share(client, alice, stream, f"pal{i}@example.com", "COLLABORATOR")
    with count_statements() as statements:
        body = await gql(client, MANY, token=alice.token)
    assert not body.get("errors"), body
    nodes = body["data"]["me"]["streams"]["nodes"]
    assert len(nodes) == n and all(len(s["grants"]) == 2 for s in nodes)
    return len(statements)


async def test_grants_on_many_streams_cost_a_bounded_number_of_statements(
    client: Any, settings: Settings
) -> None:
    one = await _statements_for_grants(client, settings, "one@example.com", 1)
    ten = await _statements_for_grants(client, settings, "ten@example.com", 10)
    assert one == ten, (one, ten)
    # actor + streams page + roles (myRole and the directive share one loader)
    # + grants (its own role check, grants) + grantees: none per stream or grant.
    assert ten <= 6, ten


async def test_guarded_fields_are_forbidden_to_collaborators_in_lists(
    client: Any, settings: Settings
) -> None:
    alice = await sign_up(client, settings, "alice@example.com")
    bob = await sign_up(client, settings, "bob@example.com")
    own = await make_stream(client, bob, "bob's own")
    for i in range(3):
        stream = await make_stream(client, alice, f"shared {i}")
        await share(client, alice, stream, bob.email, "COLLABORATOR")
    body = await gql(client, MANY, token=bob.token)
    nodes = body["data"]["me"]["streams"]["nodes"]
    assert {n["name"]: n["grants"] for n in nodes} == {
        "bob's own": [],
        "shared 0": None,
        "shared 1": None,
        "shared 2": None,
    }
    assert error_codes(body) == ["FORBIDDEN"] * 3
    assert own


async def test_the_permission_fails_closed_without_a_guarded_parent() -> None:
    from types import SimpleNamespace

    from lifeos_gql.api.permissions import HasRole, role_on
    from lifeos_gql.domains.sharing.policy import Role

    info: Any = SimpleNamespace(context=SimpleNamespace(actor=SimpleNamespace(user_id=None)))
    assert await role_on(None, info) is None  # a root field has no parent to judge by
    assert await role_on(object(), info) is None
    assert await HasRole(Role.VIEWER).has_permission(None, info) is False
