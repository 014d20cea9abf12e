"""Personas: bundles of streams shared as grants that stay in step."""

from __future__ import annotations

from typing import Any

import pytest

from lifeos_gql.config import Settings
from tests.helpers import error_codes, gql
from tests.integration.test_sharing import (
    GRANTS,
    Person,
    audit_rows,
    make_stream,
    role_of,
    share,
    sign_up,
)

CREATE = "mutation($n: String!) { createPersona(name: $n) { id name } }"
RENAME = "mutation($p: ID!, $n: String!) { renamePersona(id: $p, name: $n) { id name } }"
DELETE = "mutation($p: ID!) { deletePersona(id: $p) { deletedId } }"
ADD = """
mutation($p: ID!, $s: ID!) { addStreamToPersona(personaId: $p, streamId: $s) { id streams { id } } }
"""
REMOVE = """
mutation($p: ID!, $s: ID!) {
  removeStreamFromPersona(personaId: $p, streamId: $s) { id streams { id } }
}"""
SHARE = """
mutation($p: ID!, $e: String!, $r: Role!) {
  sharePersona(personaId: $p, email: $e, role: $r) {
    id role pending invitedEmail grantee { email } persona { name }
  }
}"""
UNSHARE = "mutation($id: ID!) { unsharePersona(id: $id) }"
MINE = """
{ me { personas { id name streams { id name } shares { id role pending invitedEmail grantee { email } } } } }
"""


async def ok(client: Any, query: str, variables: dict[str, Any], who: Person) -> Any:
    body = await gql(client, query, variables, token=who.token)
    assert not body.get("errors"), body
    return body["data"]


@pytest.fixture
async def cast(client: Any, settings: Settings) -> tuple[Person, Person, Person, str, str, str]:
    """Alice owns streams A and B and a 'Work' persona; Bob and Carol have accounts."""
    alice = await sign_up(client, settings, "alice@example.com")
    bob = await sign_up(client, settings, "bob@example.com")
    carol = await sign_up(client, settings, "carol@example.com")
    a = await make_stream(client, alice, "A")
    b = await make_stream(client, alice, "B")
    persona = (await ok(client, CREATE, {"n": "Work"}, alice))["createPersona"]["id"]
    return alice, bob, carol, a, b, persona


async def test_persona_grants_follow_streams_added_and_removed(client: Any, cast: Any) -> None:
    alice, bob, _carol, a, b, persona = cast
    await ok(client, ADD, {"p": persona, "s": a}, alice)
    shared = (await ok(client, SHARE, {"p": persona, "e": bob.email, "r": "VIEWER"}, alice))[
        "sharePersona"
    ]
    assert shared["grantee"]["email"] == bob.email and shared["persona"]["name"] == "Work"
    assert await role_of(client, bob, a) == "VIEWER"
    assert await role_of(client, bob, b) is None

    added = await ok(client, ADD, {"p": persona, "s": b}, alice)
    assert [s["id"] for s in added["addStreamToPersona"]["streams"]] == [a, b]
    assert await role_of(client, bob, b) == "VIEWER"
    again = await ok(client, ADD, {"p": persona, "s": b}, alice)  # idempotent
    assert len(again["addStreamToPersona"]["streams"]) == 2

    # A direct grant on A survives A leaving the persona; B has none and goes.
    await share(client, alice, a, bob.email, "COLLABORATOR")
    assert await role_of(client, bob, a) == "COLLABORATOR"  # strongest of direct and persona
    await ok(client, REMOVE, {"p": persona, "s": a}, alice)
    await ok(client, REMOVE, {"p": persona, "s": b}, alice)
    assert await role_of(client, bob, a) == "COLLABORATOR"
    assert await role_of(client, bob, b) is None
    grants = (await ok(client, GRANTS, {"s": a}, alice))["stream"]["grants"]
    assert [(g["role"], g["persona"]) for g in grants] == [("COLLABORATOR", None)]
    missing = await gql(client, REMOVE, {"p": persona, "s": b}, token=alice.token)
    assert error_codes(missing) == ["NOT_FOUND"]

    actions = [r.action for r in await audit_rows(client, "persona.")]
    assert actions == [
        "persona.create",
        "persona.stream.add",
        "persona.share.create",
        "persona.stream.add",
        "persona.stream.add",
        "persona.stream.remove",
        "persona.stream.remove",
    ]
    assert all("@" not in r.details for r in await audit_rows(client, "persona."))


async def test_resharing_changes_roles_and_unsharing_revokes(client: Any, cast: Any) -> None:
    alice, bob, carol, a, b, persona = cast
    for stream in (a, b):
        await ok(client, ADD, {"p": persona, "s": stream}, alice)
    first = (await ok(client, SHARE, {"p": persona, "e": bob.email, "r": "VIEWER"}, alice))[
        "sharePersona"
    ]
    second = (
        await ok(client, SHARE, {"p": persona, "e": "BOB@example.com", "r": "COLLABORATOR"}, alice)
    )["sharePersona"]
    assert second["id"] == first["id"] and second["role"] == "COLLABORATOR"
    assert [await role_of(client, bob, s) for s in (a, b)] == ["COLLABORATOR"] * 2
    await ok(client, SHARE, {"p": persona, "e": carol.email, "r": "VIEWER"}, alice)

    # Persona grants are changed through the persona, not one by one.
    grants = (await ok(client, GRANTS, {"s": a}, alice))["stream"]["grants"]
    bobs = next(g for g in grants if g["grantee"]["email"] == bob.email)
    assert bobs["persona"]["name"] == "Work"
    revoke = await gql(
        client, "mutation($g: ID!) { revokeGrant(id: $g) }", {"g": bobs["id"]}, token=alice.token
    )
    assert error_codes(revoke) == ["BAD_USER_INPUT"]

    assert (await ok(client, UNSHARE, {"id": first["id"]}, alice))["unsharePersona"] is True
    assert [await role_of(client, bob, s) for s in (a, b)] == [None, None]
    assert await role_of(client, carol, a) == "VIEWER"
    gone = await gql(client, UNSHARE, {"id": first["id"]}, token=alice.token)
    assert error_codes(gone) == ["NOT_FOUND"]

    await ok(client, DELETE, {"p": persona}, alice)
    assert await role_of(client, carol, a) is None
    assert (await ok(client, MINE, {}, alice))["me"]["personas"] == []


async def test_persona_invite_materialises_on_sign_in_and_follows_new_streams(
    client: Any, settings: Settings, cast: Any
) -> None:
    alice, _bob, _carol, a, b, persona = cast
    await ok(client, ADD, {"p": persona, "s": a}, alice)
    pending = (
        await ok(client, SHARE, {"p": persona, "e": "Dana@Example.com", "r": "VIEWER"}, alice)
    )["sharePersona"]
    assert pending["pending"] is True and pending["invitedEmail"] == "dana@example.com"
    await ok(client, ADD, {"p": persona, "s": b}, alice)  # granted to the invite too

    dana = await sign_up(client, settings, "dana@example.com")
    assert [await role_of(client, dana, s) for s in (a, b)] == ["VIEWER", "VIEWER"]
    [listed] = (await ok(client, MINE, {}, alice))["me"]["personas"]
    assert listed["name"] == "Work" and [s["name"] for s in listed["streams"]] == ["A", "B"]
    [claimed] = listed["shares"]
    assert claimed["id"] == pending["id"] and claimed["pending"] is False
    assert claimed["invitedEmail"] is None and claimed["grantee"]["email"] == dana.email

    c = await make_stream(client, alice, "C")
    await ok(client, ADD, {"p": persona, "s": c}, alice)
    assert await role_of(client, dana, c) == "VIEWER"


async def test_personas_are_private_and_hold_only_owned_streams(client: Any, cast: Any) -> None:
    alice, bob, carol, a, _b, persona = cast
    await share(client, alice, a, bob.email, "COLLABORATOR")
    bobs = (await ok(client, CREATE, {"n": "Mine"}, bob))["createPersona"]["id"]
    not_owned = await gql(client, ADD, {"p": bobs, "s": a}, token=bob.token)
    assert error_codes(not_owned) == ["FORBIDDEN"]
    hidden = await make_stream(client, carol, "Carol's")
    invisible = await gql(client, ADD, {"p": bobs, "s": hidden}, token=bob.token)
    assert error_codes(invisible) == ["NOT_FOUND"]

    for query, variables in [
        (ADD, {"p": persona, "s": a}),
        (RENAME, {"p": persona, "n": "Mine now"}),
        (SHARE, {"p": persona, "e": carol.email, "r": "VIEWER"}),
        (DELETE, {"p": persona}),
    ]:
        body = await gql(client, query, variables, token=bob.token)
        assert error_codes(body) == ["NOT_FOUND"], (query, body)
    assert (await ok(client, MINE, {}, bob))["me"]["personas"][0]["name"] == "Mine"
    stream_personas = "query($s: ID!) { stream(id: $s) { name personas { name } } }"
    seen = await gql(client, stream_personas, {"s": a}, token=bob.token)
    assert seen["data"]["stream"] == {"name": "A", "personas": None}
    assert error_codes(seen) == ["FORBIDDEN"]
    await ok(client, ADD, {"p": persona, "s": a}, alice)
    owner_view = await ok(client, stream_personas, {"s": a}, alice)
    assert owner_view["stream"]["personas"] == [{"name": "Work"}]


async def test_persona_input_errors(client: Any, cast: Any) -> None:
    alice, _bob, _carol, _a, _b, persona = cast
    duplicate = await gql(client, CREATE, {"n": " work "}, token=alice.token)
    assert error_codes(duplicate) == ["CONFLICT"]
    other = (await ok(client, CREATE, {"n": "Health"}, alice))["createPersona"]["id"]
    clash = await gql(client, RENAME, {"p": other, "n": "WORK"}, token=alice.token)
    assert error_codes(clash) == ["CONFLICT"]
    renamed = await ok(client, RENAME, {"p": other, "n": "Body  and mind"}, alice)
    assert renamed["renamePersona"]["name"] == "Body and mind"
    for variables in (
        {"p": persona, "e": alice.email, "r": "VIEWER"},
        {"p": persona, "e": "bob@example.com", "r": "OWNER"},
        {"p": persona, "e": "nope", "r": "VIEWER"},
    ):
        body = await gql(client, SHARE, variables, token=alice.token)
        assert error_codes(body) == ["BAD_USER_INPUT"], variables
    empty = await gql(client, CREATE, {"n": "  "}, token=alice.token)
    assert error_codes(empty) == ["BAD_USER_INPUT"]


async def test_transfer_takes_the_stream_out_of_the_old_owners_personas(
    client: Any, cast: Any
) -> None:
    alice, bob, carol, a, _b, persona = cast
    await ok(client, ADD, {"p": persona, "s": a}, alice)
    await ok(client, SHARE, {"p": persona, "e": carol.email, "r": "VIEWER"}, alice)
    await share(client, alice, a, bob.email, "VIEWER")
    transfer = "mutation($s: ID!, $u: ID) { transferOwnership(streamId: $s, userId: $u) { id } }"
    await ok(client, transfer, {"s": a, "u": bob.id}, alice)
    assert await role_of(client, bob, a) == "OWNER"
    assert await role_of(client, carol, a) is None  # only the persona gave her access
    [listed] = (await ok(client, MINE, {}, alice))["me"]["personas"]
    assert listed["streams"] == []


async def test_persona_invite_merges_into_an_existing_share_on_email_change(
    client: Any, settings: Settings, cast: Any
) -> None:
    from lifeos_gql.infra.auth.dev_issuer import DevIssuer, dev_subject

    alice, bob, _carol, a, _b, persona = cast
    await ok(client, ADD, {"p": persona, "s": a}, alice)
    await ok(client, SHARE, {"p": persona, "e": bob.email, "r": "VIEWER"}, alice)
    await ok(client, SHARE, {"p": persona, "e": "bob.new@example.com", "r": "COLLABORATOR"}, alice)
    token = DevIssuer.load_or_create(settings.lifeos_data_dir).mint(
        "bob.new@example.com", subject=dev_subject(bob.email)
    )
    renamed = Person("bob.new@example.com", token, bob.id)
    assert await role_of(client, renamed, a) == "COLLABORATOR"
    [listed] = (await ok(client, MINE, {}, alice))["me"]["personas"]
    assert [(s["role"], s["pending"], s["grantee"]["email"]) for s in listed["shares"]] == [
        ("COLLABORATOR", False, "bob.new@example.com")
    ]
    grants = (await ok(client, GRANTS, {"s": a}, alice))["stream"]["grants"]
    assert [(g["role"], g["grantee"]["id"]) for g in grants] == [("COLLABORATOR", bob.id)]
