"""The ``Grant`` type and ``Stream.grants``.

Grants are reachable only by the stream's owner (``Stream.grants`` is
``@requiresRole(role: OWNER)``, and the sharing mutations answer them to the
owner only); the fields naming a person are guarded again so any new path
to a grant stays owner-only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.permissions import requires_role
from lifeos_gql.api.types.common import Role
from lifeos_gql.api.types.user import User
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.sharing.models import GrantRecord
from lifeos_gql.domains.sharing.policy import Role as DomainRole

if TYPE_CHECKING:
    from lifeos_gql.api.types.persona import Persona
    from lifeos_gql.api.types.stream import Stream


@strawberry.type(
    description="A role on a stream held by a person, or waiting for an email address with no "
    "account yet (a pending invite, claimed at that person's first sign-in). A person's role "
    "is the strongest of their direct grant and the grants their persona shares gave. "
    "Only the stream's owner sees grants."
)
class Grant:
    id: strawberry.ID
    role: Role
    pending: bool = strawberry.field(
        description="True while the invited email address has not signed up."
    )
    created_at: datetime
    _record: strawberry.Private[GrantRecord]

    def acl_stream_id(self) -> uuid.UUID:
        return self._record.stream_id

    @strawberry.field(
        description="The address a pending invite waits for (null once claimed).",
        extensions=requires_role(DomainRole.OWNER),
    )
    def invited_email(self) -> str | None:
        return self._record.grantee_email

    @strawberry.field(
        description="Who holds the grant (null for a pending invite).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def grantee(self, info: Info[Context, None]) -> User | None:
        if self._record.grantee_id is None:
            return None
        model = await info.context.loaders.user.get(self._record.grantee_id)
        return User.from_model(model) if model else None

    @strawberry.field(description="The stream this grant is on.")
    async def stream(
        self, info: Info[Context, None]
    ) -> Annotated[Stream, strawberry.lazy("lifeos_gql.api.types.stream")] | None:
        from lifeos_gql.api.types.stream import Stream

        model = await info.context.loaders.stream.get(self._record.stream_id)
        return Stream.from_model(model) if model else None

    @strawberry.field(
        description="The persona whose share gave this grant; null for a direct grant. "
        "Change or revoke such grants through the persona."
    )
    async def persona(
        self, info: Info[Context, None]
    ) -> Annotated[Persona, strawberry.lazy("lifeos_gql.api.types.persona")] | None:
        from lifeos_gql.api.types.persona import Persona

        if self._record.persona_id is None:
            return None
        record = await info.context.loaders.sharing.persona.get(self._record.persona_id)
        return Persona.from_record(record) if record else None

    @classmethod
    def from_record(cls, record: GrantRecord) -> Grant:
        return cls(
            id=strawberry.ID(encode_global_id("Grant", record.id)),
            role=Role.from_domain(record.role),
            pending=record.pending,
            created_at=record.created_at,
            _record=record,
        )


async def resolve_stream_grants(root: Stream, info: Info[Context, None]) -> list[Grant]:
    """Every grant and pending invite on the stream, oldest first (owner only)."""
    records = await info.context.loaders.sharing.stream_grants.get(root._model.id) or []
    return [Grant.from_record(r) for r in records]
