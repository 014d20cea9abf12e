"""``@requiresRole(role: Role!)``: field-level permissions printed in the SDL.

Use it on a field definition with ``extensions=requires_role(DomainRole.OWNER)``.
The check decides from the parent object, by the same policy the services
use (:func:`lifeos_gql.domains.sharing.policy.at_least`):

* a parent with ``acl_stream_id()`` (a Stream, a Capture via its stream, a
  Grant) is judged by the caller's role on that stream, read through the
  per-request ``stream_role`` DataLoader, so a list of N parents costs one
  query per level, not N;
* a parent with ``acl_owner_id()`` (a Persona and its shares, which only
  their owner can reach; a User, whose private fields are theirs alone)
  counts as OWNER for that owner and nothing for anyone else;
* anything else (a root field) is denied: fail closed.

A denied field raises ``FORBIDDEN``. Guarded fields are nullable, so a
denial nulls that field only and the rest of the parent still resolves.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, runtime_checkable

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from lifeos_gql.api.types.common import Role
from lifeos_gql.core.errors import Forbidden
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing.policy import Role as DomainRole


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresRole",
    description="The caller needs at least this role on the object's stream (owning a persona, "
    "or being the User, counts as OWNER of it) to read the field; otherwise it is null with a "
    "FORBIDDEN error.",
)
class RequiresRole:
    role: Role


@runtime_checkable
class StreamGuarded(Protocol):
    """A GraphQL object whose fields are guarded by the caller's role on one stream."""

    def acl_stream_id(self) -> uuid.UUID: ...


@runtime_checkable
class OwnerGuarded(Protocol):
    """A GraphQL object only its owner may reach (the owner counts as OWNER)."""

    def acl_owner_id(self) -> uuid.UUID: ...


async def role_on(source: Any, info: Info[Any, Any]) -> DomainRole | None:
    """The caller's role on what ``source`` belongs to (None: no role, or unknown)."""
    if isinstance(source, StreamGuarded):
        role: DomainRole | None = await info.context.loaders.stream_role.get(source.acl_stream_id())
        return role
    if isinstance(source, OwnerGuarded):
        user_id = info.context.actor.user_id
        return DomainRole.OWNER if user_id and user_id == source.acl_owner_id() else None
    return None


class HasRole(BasePermission):
    """Strawberry permission: the caller holds at least ``required`` on the parent."""

    def __init__(self, required: DomainRole) -> None:
        self.required = required
        self.message = f"This field requires the {required.value} role on this stream"

    @property
    def schema_directive(self) -> object:
        return RequiresRole(role=Role.from_domain(self.required))

    async def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return policy.at_least(await role_on(source, info), self.required)

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message or "Forbidden", requiredRole=self.required.value)


def requires_role(role: DomainRole) -> list[FieldExtension]:
    """Field extensions enforcing (and printing) ``@requiresRole(role: ...)``."""
    return [PermissionExtension([HasRole(role)], use_directives=True)]
