"""Pure permission rules: the one place that says who may do what.

OWNER: everything, share, revoke, delete. COLLABORATOR: read, add captures,
link nodes, request analysis. VIEWER: read only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Set
from enum import StrEnum


class Role(StrEnum):
    OWNER = "OWNER"
    COLLABORATOR = "COLLABORATOR"
    VIEWER = "VIEWER"


_RANK = {Role.VIEWER: 1, Role.COLLABORATOR: 2, Role.OWNER: 3}


def at_least(role: Role | None, required: Role) -> bool:
    return role is not None and _RANK[role] >= _RANK[required]


def can_read(role: Role | None) -> bool:
    return at_least(role, Role.VIEWER)


def can_capture(role: Role | None) -> bool:
    return at_least(role, Role.COLLABORATOR)


def can_link(role: Role | None) -> bool:
    return at_least(role, Role.COLLABORATOR)


def can_request_analysis(role: Role | None) -> bool:
    return at_least(role, Role.COLLABORATOR)


def can_manage(role: Role | None) -> bool:
    """Rename, delete, share, revoke: the owner only."""
    return role is Role.OWNER


def can_share(role: Role | None) -> bool:
    """Share, change roles, revoke, transfer, put into a persona: the owner only."""
    return can_manage(role)


def grantable(role: Role) -> bool:
    """Roles a grant may carry: ownership moves only by ``transferOwnership``."""
    return role is not Role.OWNER


def can_leave(role: Role | None) -> bool:
    """Grantees may drop their own access; an owner must transfer ownership first."""
    return role is not None and role is not Role.OWNER


def highest(roles: Iterable[Role]) -> Role | None:
    """The strongest of several roles (a direct grant and persona grants add up)."""
    return max(roles, key=_RANK.__getitem__, default=None)


def credential_reaches(bound_stream_id: uuid.UUID | None, stream_id: uuid.UUID) -> bool:
    """A credential bound to one stream (an ingest token) reaches that stream only."""
    return bound_stream_id is None or bound_stream_id == stream_id


def sees_node(deciding: Set[uuid.UUID], readable: Set[uuid.UUID], *, every: bool) -> bool:
    """Whether a reader of the ``readable`` streams sees a node whose visibility
    ``deciding`` streams decide: an insight needs ``every`` stream of its
    lineage; a concept one stream with a capture mentioning it; a capture its
    own stream. No deciding stream at all: nobody."""
    if not deciding:
        return False
    return deciding <= readable if every else not deciding.isdisjoint(readable)
