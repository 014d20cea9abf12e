"""Stream grants over GraphQL: share, invites, change, revoke, transfer, leave."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from lifeos_gql.config import Settings
from lifeos_gql.core.ids import encode_global_id
from tests.helpers import dev_token, error_codes, gql

CREATE = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
SHARE = """
mutation($s: ID!, $e: String!, $r: Role!) {
  shareStream(streamId: $s, email: $e, role: $r) {
    id role pending invitedEmail grantee { email } stream { id } persona { id }
  }
}"""
CHANGE = "mutation($g: ID!, $r: Role!) { changeRole(grantId: $g, role: $r) { id role } }"
REVOKE = "mutation($g: ID!) { revokeGrant(id: $g) }"
LEAVE = "mutation($s: ID!) { leaveStream(streamId: $s) }"
TRANSFER = """
mutation($s: ID!, $u: ID, $e: String) {
  transferOwnership(streamId: $s, userId: $u, email: $e) { id myRole owner { email } }
}"""
CAPTURE = """
mutation($s: ID!, $c: String!) {
  capture(input: {streamId: $s, content: $c}) { status capture { id } }
}"""
STREAM = "query($s: ID!) { stream(id: $s) { id name myRole } }"
GRANTS = """
query($s: ID!) {
  stream(id: $s) {
    name
    grants { id role pending invitedEmail grantee { id email } persona { id name } }
  }
}"""


@dataclass
class Person:
    email: str
    token: str
    id: str


async def sign_up(client: Any, settings: Settings, email: str) -> Person:
    token = dev_token(settings.lifeos_data_dir, email)
    body = await gql(client, "{ me { id } }", token=token)
    return Person(email, token, body["data"]["me"]["id"])


async def make_stream(client: Any, who: Person, name: str = "Journal") -> str:
    body = await gql(client, CREATE, {"n": name}, token=who.token)
    stream_id: str = body["data"]["createStream"]["id"]
    return stream_id


async def share(client: Any, owner: Person, stream: str, email: str, role: str) -> dict[str, Any]:
    body = await gql(client, SHARE, {"s": stream, "e": email, "r": role}, token=owner.token)
    assert not body.get("errors"), body
    grant: dict[str, Any] = body["data"]["shareStream"]
    return grant


async def role_of(client: Any, who: Person, stream: str) -> str | None:
    body = await gql(client, STREAM, {"s": stream}, token=who.token)
    assert not body.get("errors"), body
    found = body["data"]["stream"]
    return found["myRole"] if found else None


async def audit_rows(client: Any, action_prefix: str) -> list[Any]:
    async with client.app.state.runtime.system_db.transaction() as uow:
        rows = await uow.execute(
            text(
                "SELECT action, target_type, target_id, details::text AS details FROM audit_log"
                " WHERE action LIKE :p ORDER BY id"
            ),
            {"p": f"{action_prefix}%"},
        )
        return list(rows)


@pytest.fixture
async def cast(client: Any, settings: Settings) -> tuple[Person, Person, Person, str]:
    """Alice owns a stream; Bob and Carol have accounts and no access yet."""
    alice = await sign_up(client, settings, "alice@example.com")
    bob = await sign_up(client, settings, "bob@example.com")
    carol = await sign_up(client, settings, "carol@example.com")
    return alice, bob, carol, await make_stream(client, alice)


async def test_viewer_reads_but_cannot_capture(client: Any, cast: Any) -> None:
    alice, bob, _carol, stream = cast
    await gql(client, CAPTURE, {"s": stream, "c": "alice's note"}, token=alice.token)
    grant = await share(client, alice, stream, "Bob@Example.com ", "VIEWER")
    assert grant["role"] == "VIEWER" and grant["pending"] is False
    assert grant["grantee"]["email"] == "bob@example.com" and grant["invitedEmail"] is None

    assert await role_of(client, bob, stream) == "VIEWER"
    timeline = await gql(client, "{ timeline { nodes { content } } }", token=bob.token)
    assert [n["content"] for n in timeline["data"]["timeline"]["nodes"]] == ["alice's note"]
    denied = await gql(client, CAPTURE, {"s": stream, "c": "bob's note"}, token=bob.token)
    assert error_codes(denied) == ["FORBIDDEN"]
    again = await gql(client, "{ timeline { nodes { content } } }", token=alice.token)
    assert len(again["data"]["timeline"]["nodes"]) == 1


async def test_collaborator_captures_but_grants_are_forbidden(client: Any, cast: Any) -> None:
    alice, bob, _carol, stream = cast
    await share(client, alice, stream, bob.email, "COLLABORATOR")
    captured = await gql(client, CAPTURE, {"s": stream, "c": "bob's note"}, token=bob.token)
    assert captured["data"]["capture"]["status"] == "CREATED"

    body = await gql(client, GRANTS, {"s": stream}, token=bob.token)
    assert body["data"]["stream"] == {"name": "Journal", "grants": None}
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["stream", "grants"]

    owner_view = await gql(client, GRANTS, {"s": stream}, token=alice.token)
    assert not owner_view.get("errors")
    [grant] = owner_view["data"]["stream"]["grants"]
    assert grant["role"] == "COLLABORATOR" and grant["grantee"]["id"] == bob.id


async def test_stranger_sees_nothing_and_grantees_get_forbidden(client: Any, cast: Any) -> None:
    alice, bob, carol, stream = cast
    grant = await share(client, alice, stream, bob.email, "VIEWER")

    assert (await gql(client, STREAM, {"s": stream}, token=carol.token))["data"]["stream"] is None
    for who in (carol, bob):
        expected = "NOT_FOUND" if who is carol else "FORBIDDEN"
        attempts = [
            (SHARE, {"s": stream, "e": "zed@example.com", "r": "VIEWER"}),
            (CHANGE, {"g": grant["id"], "r": "COLLABORATOR"}),
            (REVOKE, {"g": grant["id"]}),
            (TRANSFER, {"s": stream, "e": who.email}),
        ]
        for query, variables in attempts:
            body = await gql(client, query, variables, token=who.token)
            assert error_codes(body) == [expected], (who.email, query, body)
    # A hidden stream answers exactly like a missing one.
    missing = encode_global_id("Stream", uuid.uuid4())
    for query, variables in [
        (SHARE, {"e": "zed@example.com", "r": "VIEWER"}),
        (LEAVE, {}),
        (TRANSFER, {"e": bob.email}),
    ]:
        hidden = await gql(client, query, {"s": stream, **variables}, token=carol.token)
        absent = await gql(client, query, {"s": missing, **variables}, token=carol.token)
        assert hidden["errors"][0]["message"] == absent["errors"][0]["message"]
        assert error_codes(hidden) == error_codes(absent) == ["NOT_FOUND"]
    absent_grant = await gql(
        client, REVOKE, {"g": encode_global_id("Grant", uuid.uuid4())}, token=carol.token
    )
    hidden_grant = await gql(client, REVOKE, {"g": grant["id"]}, token=carol.token)
    assert absent_grant["errors"][0]["message"] == hidden_grant["errors"][0]["message"]
    assert await role_of(client, bob, stream) == "VIEWER"  # nothing changed


async def test_invite_for_unknown_email_materialises_on_first_sign_in(
    client: Any, settings: Settings, cast: Any
) -> None:
    alice, _bob, _carol, stream = cast
    invite = await share(client, alice, stream, "Dave@Example.com", "COLLABORATOR")
    assert invite["pending"] is True and invite["grantee"] is None
    assert invite["invitedEmail"] == "dave@example.com"
    listed = (await gql(client, GRANTS, {"s": stream}, token=alice.token))["data"]["stream"]
    assert [g["invitedEmail"] for g in listed["grants"]] == ["dave@example.com"]

    dave = await sign_up(client, settings, "dave@example.com")  # first sign-in
    assert await role_of(client, dave, stream) == "COLLABORATOR"
    mine = await gql(client, "{ me { streams { nodes { id myRole } } } }", token=dave.token)
    assert mine["data"]["me"]["streams"]["nodes"] == [{"id": stream, "myRole": "COLLABORATOR"}]
    captured = await gql(client, CAPTURE, {"s": stream, "c": "dave's note"}, token=dave.token)
    assert captured["data"]["capture"]["status"] == "CREATED"

    [claimed] = (await gql(client, GRANTS, {"s": stream}, token=alice.token))["data"]["stream"][
        "grants"
    ]
    assert claimed["id"] == invite["id"]  # the invite became the grant
    assert claimed["pending"] is False and claimed["invitedEmail"] is None
    assert claimed["grantee"]["id"] == dave.id
    [row] = await audit_rows(client, "grant.claim")
    assert row.target_type == "Grant" and "@" not in row.details
    assert all("@" not in r.details for r in await audit_rows(client, "grant."))


async def test_invite_is_claimed_when_an_existing_account_changes_its_email(
    client: Any, settings: Settings, cast: Any
) -> None:
    from lifeos_gql.infra.auth.dev_issuer import DevIssuer, dev_subject

    alice, _bob, _carol, stream = cast
    await share(client, alice, stream, "erin.new@example.com", "VIEWER")
    erin = await sign_up(client, settings, "erin@example.com")
    assert await role_of(client, erin, stream) is None
    # On a second stream Erin already collaborates and her new address is
    # invited too: the invite merges into her grant, keeping the stronger role.
    other = await make_stream(client, alice, "Other")
    await share(client, alice, other, erin.email, "COLLABORATOR")
    await share(client, alice, other, "erin.new@example.com", "VIEWER")
    # The identity provider now reports a new address for the same subject.
    token = DevIssuer.load_or_create(settings.lifeos_data_dir).mint(
        "erin.new@example.com", subject=dev_subject("erin@example.com")
    )
    renamed = Person("erin.new@example.com", token, erin.id)
    assert await role_of(client, renamed, stream) == "VIEWER"
    me = await gql(client, "{ me { id email } }", token=token)
    assert me["data"]["me"] == {"id": erin.id, "email": "erin.new@example.com"}
    assert await role_of(client, renamed, other) == "COLLABORATOR"
    [merged] = (await gql(client, GRANTS, {"s": other}, token=alice.token))["data"]["stream"][
        "grants"
    ]
    assert merged["grantee"]["id"] == erin.id and merged["role"] == "COLLABORATOR"


async def test_share_again_updates_the_grant_and_bad_input_is_refused(
    client: Any, cast: Any
) -> None:
    alice, bob, _carol, stream = cast
    first = await share(client, alice, stream, bob.email, "VIEWER")
    second = await share(client, alice, stream, "BOB@example.com", "COLLABORATOR")
    assert second["id"] == first["id"] and second["role"] == "COLLABORATOR"
    assert await role_of(client, bob, stream) == "COLLABORATOR"
    listed = (await gql(client, GRANTS, {"s": stream}, token=alice.token))["data"]["stream"]
    assert len(listed["grants"]) == 1

    bad = [
        {"s": stream, "e": alice.email, "r": "VIEWER"},  # yourself
        {"s": stream, "e": "ALICE@example.com", "r": "VIEWER"},
        {"s": stream, "e": bob.email, "r": "OWNER"},  # ownership moves by transfer only
        {"s": stream, "e": "not-an-email", "r": "VIEWER"},
        {"s": stream, "e": "a@b", "r": "VIEWER"},
        {"s": stream, "e": "  ", "r": "VIEWER"},
        {"s": stream, "e": "x" * 250 + "@example.com", "r": "VIEWER"},
    ]
    for variables in bad:
        body = await gql(client, SHARE, variables, token=alice.token)
        assert error_codes(body) == ["BAD_USER_INPUT"], (variables, body)
    to_owner = await gql(client, CHANGE, {"g": first["id"], "r": "OWNER"}, token=alice.token)
    assert error_codes(to_owner) == ["BAD_USER_INPUT"]
    after = (await gql(client, GRANTS, {"s": stream}, token=alice.token))["data"]["stream"]
    assert [(g["id"], g["role"]) for g in after["grants"]] == [(first["id"], "COLLABORATOR")]


async def test_change_role_and_revoke_take_effect_immediately(client: Any, cast: Any) -> None:
    alice, bob, _carol, stream = cast
    grant = await share(client, alice, stream, bob.email, "COLLABORATOR")
    assert (await gql(client, CAPTURE, {"s": stream, "c": "one"}, token=bob.token))["data"]

    changed = await gql(client, CHANGE, {"g": grant["id"], "r": "VIEWER"}, token=alice.token)
    assert changed["data"]["changeRole"] == {"id": grant["id"], "role": "VIEWER"}
    denied = await gql(client, CAPTURE, {"s": stream, "c": "two"}, token=bob.token)
    assert error_codes(denied) == ["FORBIDDEN"]

    revoked = await gql(client, REVOKE, {"g": grant["id"]}, token=alice.token)
    assert revoked["data"] == {"revokeGrant": True}
    assert await role_of(client, bob, stream) is None
    gone = await gql(client, CAPTURE, {"s": stream, "c": "three"}, token=bob.token)
    assert error_codes(gone) == ["NOT_FOUND"]
    timeline = await gql(client, "{ timeline { nodes { id } } }", token=bob.token)
    assert timeline["data"]["timeline"]["nodes"] == []
    again = await gql(client, REVOKE, {"g": grant["id"]}, token=alice.token)
    assert error_codes(again) == ["NOT_FOUND"]

    actions = [r.action for r in await audit_rows(client, "grant.")]
    assert actions == ["grant.create", "grant.update", "grant.revoke"]
    assert all("@" not in r.details for r in await audit_rows(client, "grant."))


async def test_transfer_ownership_keeps_old_owner_as_collaborator(client: Any, cast: Any) -> None:
    alice, bob, carol, stream = cast
    refused = await gql(client, TRANSFER, {"s": stream, "e": bob.email}, token=alice.token)
    assert error_codes(refused) == ["BAD_USER_INPUT"]  # bob has no access yet
    unknown = await gql(
        client, TRANSFER, {"s": stream, "e": "nobody@example.com"}, token=alice.token
    )
    assert error_codes(unknown) == ["BAD_USER_INPUT"]  # the same answer: no account probing
    both = await gql(
        client, TRANSFER, {"s": stream, "u": bob.id, "e": bob.email}, token=alice.token
    )
    assert error_codes(both) == ["BAD_USER_INPUT"]
    await share(client, alice, stream, bob.email, "VIEWER")
    await share(client, alice, stream, carol.email, "VIEWER")

    body = await gql(client, TRANSFER, {"s": stream, "u": bob.id}, token=alice.token)
    assert not body.get("errors"), body
    assert body["data"]["transferOwnership"]["myRole"] == "COLLABORATOR"
    assert body["data"]["transferOwnership"]["owner"]["email"] == bob.email
    assert await role_of(client, bob, stream) == "OWNER"
    assert await role_of(client, alice, stream) == "COLLABORATOR"
    assert await role_of(client, carol, stream) == "VIEWER"  # direct grants stay

    denied = await gql(
        client, SHARE, {"s": stream, "e": "x@example.com", "r": "VIEWER"}, token=alice.token
    )
    assert error_codes(denied) == ["FORBIDDEN"]
    grants = (await gql(client, GRANTS, {"s": stream}, token=bob.token))["data"]["stream"]["grants"]
    assert sorted((g["grantee"]["email"], g["role"]) for g in grants) == [
        (alice.email, "COLLABORATOR"),
        (carol.email, "VIEWER"),
    ]
    # Bob can hand it back by email.
    back = await gql(client, TRANSFER, {"s": stream, "e": alice.email}, token=bob.token)
    assert back["data"]["transferOwnership"]["myRole"] == "COLLABORATOR"
    assert await role_of(client, alice, stream) == "OWNER"
    assert await role_of(client, bob, stream) == "COLLABORATOR"
    [row, _] = await audit_rows(client, "stream.transfer")
    assert "@" not in row.details and '"previousOwnerRole": "COLLABORATOR"' in row.details


async def test_leave_stream(client: Any, cast: Any) -> None:
    alice, bob, carol, stream = cast
    await share(client, alice, stream, bob.email, "COLLABORATOR")
    left = await gql(client, LEAVE, {"s": stream}, token=bob.token)
    assert left["data"] == {"leaveStream": True}
    assert await role_of(client, bob, stream) is None
    again = await gql(client, LEAVE, {"s": stream}, token=bob.token)
    assert error_codes(again) == ["NOT_FOUND"]
    stranger = await gql(client, LEAVE, {"s": stream}, token=carol.token)
    assert error_codes(stranger) == ["NOT_FOUND"]
    owner = await gql(client, LEAVE, {"s": stream}, token=alice.token)
    assert error_codes(owner) == ["BAD_USER_INPUT"]
    assert await role_of(client, alice, stream) == "OWNER"
    [row] = await audit_rows(client, "grant.leave")
    assert '"role": "COLLABORATOR"' in row.details


async def test_anonymous_callers_are_unauthenticated(client: Any, cast: Any) -> None:
    _alice, _bob, _carol, stream = cast
    body = await gql(client, SHARE, {"s": stream, "e": "x@example.com", "r": "VIEWER"})
    assert error_codes(body) == ["UNAUTHENTICATED"]
