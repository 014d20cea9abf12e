"""Use cases of the sharing domain that other domains call."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import Forbidden, NotFound
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing import policy, repository
from lifeos_gql.domains.sharing.policy import Role
from lifeos_gql.domains.sharing.repository import StreamAccess


async def stream_access(
    *, uow: UnitOfWork, actor: Actor, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StreamAccess]:
    """Batch getter: the actor's role and the owner per stream (absent = not visible).

    A credential bound to one stream (an ingest token) sees that stream only.
    """
    if actor.user_id is None:
        return {}
    wanted = [sid for sid in stream_ids if policy.credential_reaches(actor.stream_id, sid)]
    return await repository.access_to_streams(uow, actor.user_id, wanted)


async def stream_roles(
    *, uow: UnitOfWork, actor: Actor, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Role]:
    """Batch getter: the actor's role per stream (absent = not visible)."""
    access = await stream_access(uow=uow, actor=actor, stream_ids=stream_ids)
    return {stream_id: a.role for stream_id, a in access.items()}


#: A reader as visibility sees it: the user, and the stream a credential is bound to.
Reader = tuple[uuid.UUID, uuid.UUID | None]


async def readable_among(
    *, uow: UnitOfWork, readers: Sequence[Reader], stream_ids: Sequence[uuid.UUID]
) -> dict[Reader, set[uuid.UUID]]:
    """Which of ``stream_ids`` each reader may read, for many readers in one query.

    The same role rule and credential binding as ``stream_access``; run it
    on a connection that sees every stream (the live-event dispatcher's).
    """
    access = await repository.access_of_users(uow, list({u for u, _ in readers}), stream_ids)
    out: dict[Reader, set[uuid.UUID]] = {reader: set() for reader in readers}
    for reader in readers:
        user_id, bound = reader
        for stream_id in stream_ids:
            found = access.get((user_id, stream_id))
            role = found.role if found is not None else None
            if policy.credential_reaches(bound, stream_id) and policy.can_read(role):
                out[reader].add(stream_id)
    return out


async def require_stream_role(
    *,
    uow: UnitOfWork,
    actor: Actor,
    stream_id: uuid.UUID,
    allowed: Callable[[Role | None], bool],
    action: str,
) -> Role:
    """The actor's role if ``allowed``; NOT_FOUND if they can't see the stream.

    A stream the actor cannot see answers exactly like a missing one, so
    nobody learns that hidden data exists.
    """
    actor.require_user_id()
    access = (await stream_access(uow=uow, actor=actor, stream_ids=[stream_id])).get(stream_id)
    if access is None:
        raise NotFound("Stream not found", field="streamId")
    if not allowed(access.role):
        role = access.role.value
        raise Forbidden(f"Your role ({role}) may not {action}", role=role)
    return access.role


async def my_stream_roles(*, uow: UnitOfWork, actor: Actor) -> dict[uuid.UUID, Role]:
    """The actor's role on every stream they have one on (one query pair)."""
    if actor.user_id is None:
        return {}
    candidates = await repository.candidate_streams(uow, actor.user_id)
    return await stream_roles(uow=uow, actor=actor, stream_ids=candidates)


async def readable_streams(*, uow: UnitOfWork, actor: Actor) -> list[uuid.UUID]:
    """Every stream the actor may read."""
    roles = await my_stream_roles(uow=uow, actor=actor)
    return [sid for sid, role in roles.items() if policy.can_read(role)]
