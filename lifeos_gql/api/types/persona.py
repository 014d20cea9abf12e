"""The ``Persona`` and ``PersonaShare`` types, ``me.personas`` and ``Stream.personas``.

Personas are private to their owner: every path to one goes through loaders
that return only the caller's own, and the fields listing streams and
shares are ``@requiresRole(role: OWNER)`` (the owner counts as OWNER).
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
from lifeos_gql.domains.sharing import personas
from lifeos_gql.domains.sharing.models import PersonaRecord, PersonaShareRecord
from lifeos_gql.domains.sharing.policy import Role as DomainRole

if TYPE_CHECKING:
    from lifeos_gql.api.types.stream import Stream


@strawberry.type(
    description="A named facet of your life grouping streams you own ('Work', 'Health'). "
    "Sharing it grants its streams as a bundle: streams added later are granted too, and "
    "removing a stream revokes what the persona gave. Only its owner sees a persona."
)
class Persona:
    id: strawberry.ID
    name: str
    created_at: datetime
    _record: strawberry.Private[PersonaRecord]

    def acl_owner_id(self) -> uuid.UUID:
        return self._record.owner_id

    @strawberry.field(
        description="The streams in this persona, in the order they were added.",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def streams(
        self, info: Info[Context, None]
    ) -> list[Annotated[Stream, strawberry.lazy("lifeos_gql.api.types.stream")]] | None:
        from lifeos_gql.api.types.stream import Stream

        ids = await info.context.loaders.sharing.persona_streams.get(self._record.id) or []
        models = await info.context.loaders.stream.load_many(ids)
        return [Stream.from_model(m) for m in models if m is not None]

    @strawberry.field(
        description="Who this persona is shared with, including pending invites.",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def shares(self, info: Info[Context, None]) -> list[PersonaShare] | None:
        records = await info.context.loaders.sharing.persona_shares.get(self._record.id) or []
        return [PersonaShare.from_record(r) for r in records]

    @classmethod
    def from_record(cls, record: PersonaRecord) -> Persona:
        return cls(
            id=strawberry.ID(encode_global_id("Persona", record.id)),
            name=record.name,
            created_at=record.created_at,
            _record=record,
        )


@strawberry.type(
    description="A persona shared with a person (or a pending email address): they hold "
    "`role` on every stream of the persona. Only the persona's owner sees it."
)
class PersonaShare:
    id: strawberry.ID
    role: Role
    pending: bool = strawberry.field(
        description="True while the invited email address has not signed up."
    )
    created_at: datetime
    _record: strawberry.Private[PersonaShareRecord]

    def acl_owner_id(self) -> uuid.UUID:
        return self._record.owner_id

    @strawberry.field(
        description="The address a pending share waits for (null once claimed).",
        extensions=requires_role(DomainRole.OWNER),
    )
    def invited_email(self) -> str | None:
        return self._record.grantee_email

    @strawberry.field(
        description="Who the persona is shared with (null while pending).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def grantee(self, info: Info[Context, None]) -> User | None:
        if self._record.grantee_id is None:
            return None
        model = await info.context.loaders.user.get(self._record.grantee_id)
        return User.from_model(model) if model else None

    @strawberry.field(description="The shared persona.")
    async def persona(self, info: Info[Context, None]) -> Persona | None:
        record = await info.context.loaders.sharing.persona.get(self._record.persona_id)
        return Persona.from_record(record) if record else None

    @classmethod
    def from_record(cls, record: PersonaShareRecord) -> PersonaShare:
        return cls(
            id=strawberry.ID(encode_global_id("PersonaShare", record.id)),
            role=Role.from_domain(record.role),
            pending=record.pending,
            created_at=record.created_at,
            _record=record,
        )


async def resolve_stream_personas(root: Stream, info: Info[Context, None]) -> list[Persona]:
    """Your personas holding this stream (owner only)."""
    records = await info.context.loaders.sharing.stream_personas.get(root._model.id) or []
    return [Persona.from_record(r) for r in records]


async def resolve_my_personas(root: User, info: Info[Context, None]) -> list[Persona]:
    """Your personas by name (the field is yours alone: ``@requiresRole`` on ``User``)."""
    ctx = info.context
    records = await ctx.loaders.own.fetch(
        ("personas", root._model.id),
        lambda uow: personas.my_personas(uow=uow, actor=ctx.actor),
    )
    return [Persona.from_record(r) for r in records]
