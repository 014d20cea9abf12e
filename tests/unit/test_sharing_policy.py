"""The pure sharing rules: roles, who may do what, and input cleaning."""

from __future__ import annotations

import uuid

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing.policy import Role
from lifeos_gql.domains.sharing.validation import (
    clean_email,
    clean_grant_role,
    clean_persona_name,
)

# role -> (read, capture, link, request analysis, manage/share, leave)
MATRIX = {
    Role.OWNER: (True, True, True, True, True, False),
    Role.COLLABORATOR: (True, True, True, True, False, True),
    Role.VIEWER: (True, False, False, False, False, True),
    None: (False, False, False, False, False, False),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_permission_matrix(role: Role | None) -> None:
    got = (
        policy.can_read(role),
        policy.can_capture(role),
        policy.can_link(role),
        policy.can_request_analysis(role),
        policy.can_share(role),
        policy.can_leave(role),
    )
    assert got == MATRIX[role]
    assert policy.can_manage(role) == policy.can_share(role)


def test_at_least_orders_roles() -> None:
    assert policy.at_least(Role.OWNER, Role.VIEWER)
    assert policy.at_least(Role.COLLABORATOR, Role.COLLABORATOR)
    assert not policy.at_least(Role.VIEWER, Role.COLLABORATOR)
    assert not policy.at_least(None, Role.VIEWER)


def test_highest_of_direct_and_persona_grants() -> None:
    assert policy.highest([Role.VIEWER, Role.COLLABORATOR, Role.VIEWER]) is Role.COLLABORATOR
    assert policy.highest([Role.VIEWER]) is Role.VIEWER
    assert policy.highest([]) is None


def test_only_collaborator_and_viewer_are_grantable() -> None:
    assert policy.grantable(Role.VIEWER) and policy.grantable(Role.COLLABORATOR)
    assert not policy.grantable(Role.OWNER)
    assert clean_grant_role(Role.VIEWER) is Role.VIEWER
    with pytest.raises(BadInput) as raised:
        clean_grant_role(Role.OWNER)
    assert raised.value.extensions["field"] == "role"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Bob@Example.com", "bob@example.com"),
        ("  dave+lifeos@mail.example.org ", "dave+lifeos@mail.example.org"),
        ("o'neil@example.ie", "o'neil@example.ie"),
    ],
)
def test_clean_email_accepts_ordinary_addresses(raw: str, cleaned: str) -> None:
    assert clean_email(raw) == cleaned


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plain",
        "a@b",
        "@example.com",
        "bob@",
        "bob@@example.com",
        "bob smith@example.com",
        "bob@exa mple.com",
        "<bob@example.com>",
        "bob@example..com",
        "bob@example.com.",
        "x" * 250 + "@example.com",
    ],
)
def test_clean_email_refuses_bad_addresses(raw: str) -> None:
    with pytest.raises(BadInput) as raised:
        clean_email(raw, field="email")
    assert raised.value.extensions["field"] == "email"


def test_persona_names_are_trimmed_and_bounded() -> None:
    assert clean_persona_name("  Work \n stuff ") == "Work stuff"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(BadInput):
            clean_persona_name(bad)


def test_sees_node_needs_every_stream_or_one_or_none() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # An insight drawn from a and b: every stream of its lineage.
    assert policy.sees_node({a, b}, {a, b, c}, every=True)
    assert not policy.sees_node({a, b}, {a}, every=True)
    # A concept mentioned from a and b: one of them is enough.
    assert policy.sees_node({a, b}, {b}, every=False)
    assert not policy.sees_node({a, b}, {c}, every=False)
    # Nothing decides: nobody sees it, whatever they read.
    assert not policy.sees_node(set(), {a, b, c}, every=True)
    assert not policy.sees_node(set(), {a, b, c}, every=False)
