"""Sharing mutations: grants on streams and personas (merged into ``Mutation``).

Every field is one use case in one transaction with its audit row. Who may
call what (owner-only actions answer FORBIDDEN to grantees and NOT_FOUND to
anyone who cannot see the stream or persona) is decided in the sharing
domain's services by ``sharing.policy``.

Mutations that find a person by email, or hand a stream to another owner,
run on ``Runtime.system_db``: they read an account the caller cannot see yet
and write rows that will belong to someone else, which the caller's
row-level-security view does not allow. The services check the caller's
role first, in the same transaction.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.common import Role
from lifeos_gql.api.types.grant import Grant
from lifeos_gql.api.types.ingest import DeletePayload
from lifeos_gql.api.types.persona import Persona, PersonaShare
from lifeos_gql.api.types.stream import Stream
from lifeos_gql.core.errors import NotFound
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.sharing import grants, personas
from lifeos_gql.domains.sharing.policy import Role as DomainRole


def _role(role: Role) -> DomainRole:
    return DomainRole(role.value)


@strawberry.type
class SharingMutations:
    @strawberry.mutation(
        description="Share a stream you own with the person at `email` as COLLABORATOR or "
        "VIEWER. Someone without an account yet gets a pending invite that becomes a grant "
        "when they first sign in with that address. Sharing again with the same person "
        "updates the role of their direct grant (no CONFLICT). Owner only."
    )
    async def share_stream(
        self, info: Info[Context, None], stream_id: strawberry.ID, email: str, role: Role
    ) -> Grant:
        ctx = info.context
        stream = decode_global_id(str(stream_id), expected="Stream").id
        async with ctx.runtime.system_db.transaction(ctx.require_user()) as uow:
            record = await grants.share_stream(
                uow=uow, actor=ctx.actor, stream_id=stream, email=email, role=_role(role)
            )
        return Grant.from_record(record)

    @strawberry.mutation(
        description="Change the role of a direct grant or pending invite (the stream's owner "
        "only). Grants from a persona change with the persona share (`sharePersona`)."
    )
    async def change_role(
        self, info: Info[Context, None], grant_id: strawberry.ID, role: Role
    ) -> Grant:
        ctx = info.context
        grant_id_ = decode_global_id(str(grant_id), expected="Grant").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await grants.change_role(
                uow=uow, actor=ctx.actor, grant_id=grant_id_, role=_role(role)
            )
        return Grant.from_record(record)

    @strawberry.mutation(
        description="Revoke a direct grant or pending invite (the stream's owner only); access "
        "ends with this call. Grants from a persona go with `unsharePersona` or "
        "`removeStreamFromPersona`. True when revoked."
    )
    async def revoke_grant(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        ctx = info.context
        grant_id = decode_global_id(str(id), expected="Grant").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            await grants.revoke_grant(uow=uow, actor=ctx.actor, grant_id=grant_id)
        return True

    @strawberry.mutation(
        description="Make someone who already has access to a stream you own its owner, by "
        "their user id or email (exactly one). You keep access as a COLLABORATOR. The stream "
        "leaves your personas, revoking the grants they gave on it; direct grants stay."
    )
    async def transfer_ownership(
        self,
        info: Info[Context, None],
        stream_id: strawberry.ID,
        user_id: strawberry.ID | None = None,
        email: str | None = None,
    ) -> Stream:
        ctx = info.context
        stream = decode_global_id(str(stream_id), expected="Stream").id
        new_owner = decode_global_id(str(user_id), expected="User").id if user_id else None
        async with ctx.runtime.system_db.transaction(ctx.require_user()) as uow:
            await grants.transfer_ownership(
                uow=uow, actor=ctx.actor, stream_id=stream, new_owner_id=new_owner, email=email
            )
        model = await ctx.loaders.stream.get(stream)
        if model is None:  # the old owner keeps COLLABORATOR, so this is a race only
            raise NotFound("Stream not found", field="streamId")
        return Stream.from_model(model)

    @strawberry.mutation(
        description="Give up your access to a stream shared with you (every grant you hold "
        "on it, persona grants included). The owner must transfer ownership instead. "
        "True when you left."
    )
    async def leave_stream(self, info: Info[Context, None], stream_id: strawberry.ID) -> bool:
        ctx = info.context
        stream = decode_global_id(str(stream_id), expected="Stream").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            await grants.leave_stream(uow=uow, actor=ctx.actor, stream_id=stream)
        return True

    @strawberry.mutation(description="Create a persona (names are unique per person: CONFLICT).")
    async def create_persona(self, info: Info[Context, None], name: str) -> Persona:
        ctx = info.context
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await personas.create_persona(uow=uow, actor=ctx.actor, name=name)
        return Persona.from_record(record)

    @strawberry.mutation(description="Rename one of your personas.")
    async def rename_persona(
        self, info: Info[Context, None], id: strawberry.ID, name: str
    ) -> Persona:
        ctx = info.context
        persona_id = decode_global_id(str(id), expected="Persona").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await personas.rename_persona(
                uow=uow, actor=ctx.actor, persona_id=persona_id, name=name
            )
        return Persona.from_record(record)

    @strawberry.mutation(
        description="Delete one of your personas; every grant its shares gave is revoked "
        "(direct grants stay)."
    )
    async def delete_persona(self, info: Info[Context, None], id: strawberry.ID) -> DeletePayload:
        ctx = info.context
        persona_id = decode_global_id(str(id), expected="Persona").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            await personas.delete_persona(uow=uow, actor=ctx.actor, persona_id=persona_id)
        return DeletePayload(deleted_id=id)

    @strawberry.mutation(
        description="Put a stream you own into one of your personas: everyone the persona is "
        "shared with gains its role on the stream. Adding it again changes nothing."
    )
    async def add_stream_to_persona(
        self, info: Info[Context, None], persona_id: strawberry.ID, stream_id: strawberry.ID
    ) -> Persona:
        ctx = info.context
        pid = decode_global_id(str(persona_id), expected="Persona").id
        sid = decode_global_id(str(stream_id), expected="Stream").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await personas.add_stream_to_persona(
                uow=uow, actor=ctx.actor, persona_id=pid, stream_id=sid
            )
        return Persona.from_record(record)

    @strawberry.mutation(
        description="Take a stream out of one of your personas, revoking the grants the "
        "persona gave on it (direct grants and other personas' grants stay)."
    )
    async def remove_stream_from_persona(
        self, info: Info[Context, None], persona_id: strawberry.ID, stream_id: strawberry.ID
    ) -> Persona:
        ctx = info.context
        pid = decode_global_id(str(persona_id), expected="Persona").id
        sid = decode_global_id(str(stream_id), expected="Stream").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await personas.remove_stream_from_persona(
                uow=uow, actor=ctx.actor, persona_id=pid, stream_id=sid
            )
        return Persona.from_record(record)

    @strawberry.mutation(
        description="Share one of your personas with the person at `email` as COLLABORATOR or "
        "VIEWER: a grant on each of its streams, kept in step as streams are added or removed. "
        "Someone without an account yet gets pending invites, claimed at first sign-in. "
        "Sharing again with the same person updates the share's role and its grants."
    )
    async def share_persona(
        self, info: Info[Context, None], persona_id: strawberry.ID, email: str, role: Role
    ) -> PersonaShare:
        ctx = info.context
        pid = decode_global_id(str(persona_id), expected="Persona").id
        async with ctx.runtime.system_db.transaction(ctx.require_user()) as uow:
            record = await personas.share_persona(
                uow=uow, actor=ctx.actor, persona_id=pid, email=email, role=_role(role)
            )
        return PersonaShare.from_record(record)

    @strawberry.mutation(
        description="Stop sharing a persona with someone: every grant that share gave is "
        "revoked (direct grants stay). True when removed."
    )
    async def unshare_persona(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        ctx = info.context
        share_id = decode_global_id(str(id), expected="PersonaShare").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            await personas.unshare_persona(uow=uow, actor=ctx.actor, share_id=share_id)
        return True
