"""The authorisation matrix, generated from the schema.

Every query field, every field of every object type and every mutation is
crossed with seven principals; each cell is an expected allow or deny,
derived from the field's classification below. A field the schema has and
this file does not classify fails the test, so a new field cannot slip
through unreviewed.

Principals (relative to the fixture stream, owned by Alice):
OWNER (Alice), COLLABORATOR, VIEWER, STRANGER (signed in, no grant),
ANONYMOUS (no credential), READ_TOKEN (Alice's API token with the read
scope only) and EXPIRED (Alice's JWT, expired).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Principal(Enum):
    ANONYMOUS = "anonymous"
    EXPIRED = "expired"
    READ_TOKEN = "read_token"
    STRANGER = "stranger"
    VIEWER = "viewer"
    COLLABORATOR = "collaborator"
    OWNER = "owner"


# Deny-first order: in a mutation's own database, the principals that should
# be refused go first, so an allowed (state-changing) call comes after them.
PRINCIPALS = list(Principal)

# What each principal holds on the fixture stream (None: not signed in).
_RANK: dict[Principal, int | None] = {
    Principal.ANONYMOUS: None,
    Principal.EXPIRED: None,
    Principal.READ_TOKEN: 3,
    Principal.STRANGER: 0,
    Principal.VIEWER: 1,
    Principal.COLLABORATOR: 2,
    Principal.OWNER: 3,
}


class Rule(Enum):
    """Who may: the classification of one field."""

    SIGNED_IN = 0  # any signed-in caller, about their own data (me, timeline, createStream)
    READER = 1  # anyone who can read the fixture object (viewer and up)
    COLLABORATOR = 2
    OWNER = 3
    SELF = 4  # a User's private field: only that user (reached as the owner's User)
    GRANTEE = 5  # holds a grant but does not own (leaveStream)


def allowed(rule: Rule, principal: Principal, *, mutation: bool) -> bool:
    rank = _RANK[principal]
    if rank is None:
        return False
    if mutation and principal is Principal.READ_TOKEN:
        return False  # the read scope runs no mutation
    if rule is Rule.SIGNED_IN:
        return True
    if rule is Rule.SELF:
        return rank == 3
    if rule is Rule.GRANTEE:
        return rank in (1, 2)
    return rank >= rule.value


@dataclass(frozen=True)
class W:
    """A value taken from the fixture world (an id, an email …)."""

    key: str


@dataclass(frozen=True)
class Mine:
    """A per-principal value from the world: ``world[f"{key}:{principal}"]``."""

    key: str


@dataclass(frozen=True)
class Enum_:
    """A GraphQL enum literal."""

    value: str


def literal(value: Any, world: dict[str, Any], principal: str = "") -> str:
    """Render a Python value as a GraphQL literal."""
    import json

    if isinstance(value, W):
        return literal(world[value.key], world)
    if isinstance(value, Mine):
        return literal(world.get(f"{value.key}:{principal}"), world)
    if isinstance(value, Enum_):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, world, principal) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {literal(v, world, principal)}" for k, v in value.items())
        return "{" + inner + "}"
    raise TypeError(f"cannot render {value!r}")


def arguments(args: dict[str, Any] | None, world: dict[str, Any], principal: str = "") -> str:
    if not args:
        return ""
    return "(" + ", ".join(f"{k}: {literal(v, world, principal)}" for k, v in args.items()) + ")"
