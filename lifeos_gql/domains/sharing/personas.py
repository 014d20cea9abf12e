"""Use cases of personas: named groups of streams, shared as a bundle of grants.

A persona share gives its grantee one grant per stream of the persona,
each marked with the share (``grants.persona_share_id``). The bundle stays
in step: adding a stream grants it to every grantee of the persona,
removing it revokes only the grants the persona gave (a direct grant on the
stream survives), and changing or deleting the share changes or revokes its
grants. Sharing a persona again with the same person updates the share's
role, like ``shareStream``.

Personas are private to their owner: anyone else's persona id answers
NOT_FOUND, like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import Conflict, NotFound
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.sharing import grants, policy
from lifeos_gql.domains.sharing import persona_repository as repository
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.sharing.models import PersonaRecord, PersonaShareRecord
from lifeos_gql.domains.sharing.policy import Role
from lifeos_gql.domains.sharing.validation import clean_email, clean_grant_role, clean_persona_name


async def _own_persona(uow: UnitOfWork, actor: Actor, persona_id: uuid.UUID) -> PersonaRecord:
    """The actor's persona, locked; anyone else's answers NOT_FOUND."""
    user_id = actor.require_user_id()
    persona = await repository.get_for_update(uow, persona_id)
    if persona is None or persona.owner_id != user_id:
        raise NotFound("Persona not found", field="personaId")
    return persona


async def _audit(uow: UnitOfWork, persona: PersonaRecord, action: str, **details: object) -> None:
    await audit.record(
        uow=uow,
        owner_id=persona.owner_id,
        action=action,
        target_type="Persona",
        target_id=str(persona.id),
        details={"personaId": str(persona.id), **details},
    )


async def create_persona(*, uow: UnitOfWork, actor: Actor, name: str) -> PersonaRecord:
    """Create a persona of the actor's; names are unique per owner (CONFLICT)."""
    user_id = actor.require_user_id()
    persona = await repository.insert(uow, user_id, clean_persona_name(name))
    if persona is None:
        raise Conflict("You already have a persona with that name", field="name")
    await _audit(uow, persona, "persona.create")
    return persona


async def rename_persona(
    *, uow: UnitOfWork, actor: Actor, persona_id: uuid.UUID, name: str
) -> PersonaRecord:
    """Rename one of the actor's personas."""
    cleaned = clean_persona_name(name)
    await _own_persona(uow, actor, persona_id)
    renamed = await repository.rename(uow, persona_id, cleaned)
    if renamed is None:
        raise Conflict("You already have a persona with that name", field="name")
    await _audit(uow, renamed, "persona.rename")
    return renamed


async def delete_persona(*, uow: UnitOfWork, actor: Actor, persona_id: uuid.UUID) -> None:
    """Delete a persona: its shares and every grant they gave go with it."""
    persona = await _own_persona(uow, actor, persona_id)
    revoked = await repository.delete(uow, persona_id)
    await _audit(uow, persona, "persona.delete", grantsRevoked=revoked)


async def add_stream_to_persona(
    *, uow: UnitOfWork, actor: Actor, persona_id: uuid.UUID, stream_id: uuid.UUID
) -> PersonaRecord:
    """Put a stream the actor owns into their persona; every grantee of it gains access.

    Adding a stream already there changes nothing (and grants nothing twice).
    """
    persona = await _own_persona(uow, actor, persona_id)
    await sharing.require_stream_role(
        uow=uow,
        actor=actor,
        stream_id=stream_id,
        allowed=policy.can_share,
        action="put it into a persona (only streams you own can)",
    )
    added = await repository.add_stream(uow, persona, stream_id)
    await _audit(
        uow,
        persona,
        "persona.stream.add",
        streamId=str(stream_id),
        added=added is not None,
        grantsAdded=added or 0,
    )
    return persona


async def remove_stream_from_persona(
    *, uow: UnitOfWork, actor: Actor, persona_id: uuid.UUID, stream_id: uuid.UUID
) -> PersonaRecord:
    """Take a stream out of the persona, revoking the grants the persona gave on it."""
    persona = await _own_persona(uow, actor, persona_id)
    revoked = await repository.remove_stream(uow, persona_id, stream_id)
    if revoked is None:
        raise NotFound("That stream is not in this persona", field="streamId")
    await _audit(
        uow, persona, "persona.stream.remove", streamId=str(stream_id), grantsRevoked=revoked
    )
    return persona


async def share_persona(
    *, uow: UnitOfWork, actor: Actor, persona_id: uuid.UUID, email: str, role: Role
) -> PersonaShareRecord:
    """Share every stream of the persona, now and later, with the person at ``email``.

    Someone not signed up yet gets pending invites that become grants at
    their first sign-in. Sharing again with the same person changes the
    role of the share and of all its grants.
    """
    user_id = actor.require_user_id()
    role = clean_grant_role(role)
    clean_email(email)
    persona = await _own_persona(uow, actor, persona_id)
    grantee_id, cleaned = await grants.resolve_grantee(uow, user_id, email)
    existing = await repository.find_share(uow, persona.id, grantee_id=grantee_id, email=cleaned)
    if existing is not None:
        share = existing
        if existing.role is not role:
            share = await repository.set_share_role(uow, existing.id, role)
        await _audit(
            uow,
            persona,
            "persona.share.update",
            shareId=str(share.id),
            role=role.value,
            previousRole=existing.role.value,
        )
        return share
    share = await repository.insert_share(
        uow, persona=persona, grantee_id=grantee_id, email=cleaned, role=role, created_by=user_id
    )
    added = await repository.grant_share_on_streams(uow, share)
    await _audit(
        uow,
        persona,
        "persona.share.create",
        shareId=str(share.id),
        role=role.value,
        pending=share.pending,
        granteeId=str(grantee_id) if grantee_id else None,
        grantsAdded=added,
    )
    return share


async def unshare_persona(
    *, uow: UnitOfWork, actor: Actor, share_id: uuid.UUID
) -> PersonaShareRecord:
    """Remove a persona share and every grant it gave (direct grants stay)."""
    actor.require_user_id()
    share = await repository.get_share(uow, share_id)
    if share is None or share.owner_id != actor.user_id:
        raise NotFound("Persona share not found", field="id")
    persona = await _own_persona(uow, actor, share.persona_id)
    revoked = await repository.delete_share(uow, share_id)
    await _audit(uow, persona, "persona.share.delete", shareId=str(share_id), grantsRevoked=revoked)
    return share


async def my_personas(*, uow: UnitOfWork, actor: Actor) -> list[PersonaRecord]:
    """The actor's personas by name."""
    if actor.user_id is None:
        return []
    return await repository.owned_by(uow, actor.user_id)


async def personas_by_ids(
    *, uow: UnitOfWork, actor: Actor, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PersonaRecord]:
    """Batch getter for loaders: only the actor's own personas."""
    if actor.user_id is None:
        return {}
    return await repository.get_many(uow, actor.user_id, ids)


async def stream_ids_by_persona_ids(
    *, uow: UnitOfWork, actor: Actor, persona_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Batch getter for loaders: the streams of each of the actor's personas."""
    if actor.user_id is None:
        return {}
    return await repository.stream_ids_of(uow, actor.user_id, persona_ids)


async def shares_by_persona_ids(
    *, uow: UnitOfWork, actor: Actor, persona_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PersonaShareRecord]]:
    """Batch getter for loaders: the shares of each of the actor's personas."""
    if actor.user_id is None:
        return {}
    return await repository.shares_of(uow, actor.user_id, persona_ids)


async def personas_by_stream_ids(
    *, uow: UnitOfWork, actor: Actor, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PersonaRecord]]:
    """Batch getter for loaders: the actor's personas holding each stream."""
    if actor.user_id is None:
        return {}
    return await repository.personas_of_streams(uow, actor.user_id, stream_ids)
