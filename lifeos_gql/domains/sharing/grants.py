"""Use cases of stream grants: share, change role, revoke, leave, transfer, claim.

Sharing again with someone who already holds a direct grant (or a pending
invite) updates that grant's role rather than failing: the owner's intent
("X should be a VIEWER") is the same either way, and the call stays safe to
retry. Grants that came from a persona follow the persona: change or revoke
them through the persona (``sharePersona``, ``unsharePersona``,
``removeStreamFromPersona``).

Audit rows name grants, streams and users by id, never by email: a pending
invite is named by its grant id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import BadInput, Forbidden, NotFound
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.sharing import grant_repository as repository
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.sharing.models import GrantRecord
from lifeos_gql.domains.sharing.policy import Role
from lifeos_gql.domains.sharing.validation import clean_email, clean_grant_role
from lifeos_gql.domains.users import service as users


async def _own_stream(uow: UnitOfWork, actor: Actor, stream_id: uuid.UUID, action: str) -> None:
    """NOT_FOUND unless visible, FORBIDDEN unless owned; then lock the stream row."""
    await sharing.require_stream_role(
        uow=uow, actor=actor, stream_id=stream_id, allowed=policy.can_share, action=action
    )
    await repository.lock_stream(uow, stream_id)


async def _actor_email(uow: UnitOfWork, user_id: uuid.UUID) -> str | None:
    me = (await users.users_by_ids(uow=uow, ids=[user_id])).get(user_id)
    return me.email.lower() if me and me.email else None


async def resolve_grantee(
    uow: UnitOfWork, actor_id: uuid.UUID, email: str
) -> tuple[uuid.UUID | None, str]:
    """(user id or None for someone not signed up yet, cleaned email); refuses yourself."""
    cleaned = clean_email(email)
    if cleaned == await _actor_email(uow, actor_id):
        raise BadInput("You can't share with yourself", field="email")
    target = await users.user_by_email(uow=uow, email=cleaned)
    if target is not None and target.id == actor_id:
        raise BadInput("You can't share with yourself", field="email")
    return (target.id if target else None), cleaned


async def share_stream(
    *, uow: UnitOfWork, actor: Actor, stream_id: uuid.UUID, email: str, role: Role
) -> GrantRecord:
    """Give the person with ``email`` ``role`` on the stream (owner only).

    Someone without an account yet gets a pending invite that becomes a
    grant when they first sign in with that address. Sharing again with the
    same person updates the role of their direct grant.
    """
    user_id = actor.require_user_id()
    role = clean_grant_role(role)
    clean_email(email)  # bad input answers before anything is looked up
    await _own_stream(uow, actor, stream_id, "share it")
    grantee_id, cleaned = await resolve_grantee(uow, user_id, email)
    existing = await repository.direct_grant(uow, stream_id, grantee_id=grantee_id, email=cleaned)
    if existing is not None:
        grant = existing
        if existing.role is not role:
            grant = await repository.set_role(uow, existing.id, role)
        await _audit_grant(uow, grant, "grant.update", previous=existing.role)
        return grant
    grant = await repository.insert_direct(
        uow,
        owner_id=user_id,
        stream_id=stream_id,
        grantee_id=grantee_id,
        email=cleaned,
        role=role,
        created_by=user_id,
    )
    await _audit_grant(uow, grant, "grant.create")
    return grant


async def _manageable_grant(
    uow: UnitOfWork, actor: Actor, grant_id: uuid.UUID, action: str
) -> GrantRecord:
    """The grant if the actor owns its stream; hidden grants answer NOT_FOUND."""
    actor.require_user_id()
    grant = await repository.get(uow, grant_id)
    if grant is None:
        raise NotFound("Grant not found", field="id")
    access = await sharing.stream_access(uow=uow, actor=actor, stream_ids=[grant.stream_id])
    role = access[grant.stream_id].role if grant.stream_id in access else None
    if role is None:
        raise NotFound("Grant not found", field="id")
    if not policy.can_share(role):
        raise Forbidden(f"Your role ({role.value}) may not {action}", role=role.value)
    await repository.lock_stream(uow, grant.stream_id)
    if not grant.direct:
        raise BadInput(
            "This grant comes from a persona share: change the persona share instead",
            field="id",
            reason="persona_grant",
        )
    return grant


async def change_role(
    *, uow: UnitOfWork, actor: Actor, grant_id: uuid.UUID, role: Role
) -> GrantRecord:
    """Change the role of a direct grant or pending invite (the stream's owner only)."""
    role = clean_grant_role(role)
    grant = await _manageable_grant(uow, actor, grant_id, "change roles")
    updated = grant if grant.role is role else await repository.set_role(uow, grant.id, role)
    await _audit_grant(uow, updated, "grant.update", previous=grant.role)
    return updated


async def revoke_grant(*, uow: UnitOfWork, actor: Actor, grant_id: uuid.UUID) -> GrantRecord:
    """Revoke a direct grant or pending invite (the stream's owner only); access ends now."""
    grant = await _manageable_grant(uow, actor, grant_id, "revoke access")
    await repository.delete(uow, grant.id)
    await _audit_grant(uow, grant, "grant.revoke")
    return grant


async def leave_stream(*, uow: UnitOfWork, actor: Actor, stream_id: uuid.UUID) -> int:
    """Drop every grant the actor holds on the stream; returns how many.

    The owner cannot leave (transfer ownership first). Grants from a persona
    go too; a stream later added to that persona grants it again.
    """
    user_id = actor.require_user_id()
    access = (await sharing.stream_access(uow=uow, actor=actor, stream_ids=[stream_id])).get(
        stream_id
    )
    if access is None:
        raise NotFound("Stream not found", field="streamId")
    if not policy.can_leave(access.role):
        raise BadInput(
            "The owner can't leave their stream: transfer ownership first", field="streamId"
        )
    dropped = await repository.delete_user_grants(uow, stream_id, user_id)
    # The leaver's own chain: a VIEWER may not write to the owner's chain.
    await audit.record(
        uow=uow,
        owner_id=user_id,
        action="grant.leave",
        target_type="Stream",
        target_id=str(stream_id),
        details={
            "streamId": str(stream_id),
            "grantIds": [str(g) for g in dropped],
            "role": access.role.value,
        },
    )
    return len(dropped)


async def transfer_ownership(
    *,
    uow: UnitOfWork,
    actor: Actor,
    stream_id: uuid.UUID,
    new_owner_id: uuid.UUID | None = None,
    email: str | None = None,
) -> uuid.UUID:
    """Make someone who already has access the stream's owner; returns their id.

    The old owner keeps a COLLABORATOR grant. The new owner must already hold
    a grant on the stream (share it first): so this call never tells whether
    an email belongs to an account. The stream leaves the old owner's
    personas, revoking the grants those gave on it; direct grants stay.
    """
    user_id = actor.require_user_id()
    if (new_owner_id is None) == (email is None):
        raise BadInput("Give exactly one of userId and email", field="userId")
    field = "userId" if new_owner_id is not None else "email"
    cleaned = clean_email(email, field="email") if email is not None else None
    await _own_stream(uow, actor, stream_id, "transfer ownership")
    if cleaned is not None:
        target = await users.user_by_email(uow=uow, email=cleaned)
        new_owner_id = target.id if target else None
    if new_owner_id == user_id:
        raise BadInput("You already own this stream", field=field)
    if new_owner_id is None or not await repository.holds_grant(uow, stream_id, new_owner_id):
        raise BadInput(
            "The new owner must already have access to this stream: share it with them first",
            field=field,
        )
    kept_grant, persona_grants = await repository.transfer(
        uow, stream_id, old_owner=user_id, new_owner=new_owner_id
    )
    await audit.record(
        uow=uow,
        owner_id=user_id,
        action="stream.transfer",
        target_type="Stream",
        target_id=str(stream_id),
        details={
            "streamId": str(stream_id),
            "fromUserId": str(user_id),
            "toUserId": str(new_owner_id),
            "previousOwnerGrantId": str(kept_grant),
            "previousOwnerRole": Role.COLLABORATOR.value,
            "personaGrantsRevoked": persona_grants,
        },
    )
    return new_owner_id


async def claim_invites(*, uow: UnitOfWork, user_id: uuid.UUID, email: str | None) -> int:
    """Turn the pending invites (stream grants, persona shares) of ``email`` into grants.

    Called when an identity is provisioned with a (possibly new) email.
    Needs a handle that sees every owner's grants (``Runtime.system_db``).
    Returns how many stream grants were claimed.
    """
    if not email:
        return 0
    cleaned = email.strip().lower()
    if not await repository.has_invites(uow, cleaned):
        return 0
    for share_id, owner_id, role in await repository.claim_persona_invites(uow, user_id, cleaned):
        await audit.record(
            uow=uow,
            owner_id=owner_id,
            action="persona.share.claim",
            target_type="PersonaShare",
            target_id=str(share_id),
            details={"shareId": str(share_id), "granteeId": str(user_id), "role": role.value},
        )
    claimed = await repository.claim_grant_invites(uow, user_id, cleaned)
    for grant in claimed:
        await _audit_grant(uow, grant, "grant.claim")
    return len(claimed)


async def grants_by_stream_ids(
    *, uow: UnitOfWork, actor: Actor, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GrantRecord]]:
    """Batch getter for loaders: the grants of each stream the actor owns (absent otherwise)."""
    roles = await sharing.stream_roles(uow=uow, actor=actor, stream_ids=stream_ids)
    owned = [sid for sid in stream_ids if policy.can_share(roles.get(sid))]
    return await repository.grants_for_streams(uow, owned)


async def _audit_grant(
    uow: UnitOfWork, grant: GrantRecord, action: str, *, previous: Role | None = None
) -> None:
    details: dict[str, object] = {
        "grantId": str(grant.id),
        "streamId": str(grant.stream_id),
        "role": grant.role.value,
        "pending": grant.pending,
    }
    if grant.grantee_id is not None:
        details["granteeId"] = str(grant.grantee_id)
    if grant.persona_share_id is not None:
        details["personaShareId"] = str(grant.persona_share_id)
    if previous is not None:
        details["previousRole"] = previous.value
    await audit.record(
        uow=uow,
        owner_id=grant.owner_id,
        action=action,
        target_type="Grant",
        target_id=str(grant.id),
        details=details,
    )
