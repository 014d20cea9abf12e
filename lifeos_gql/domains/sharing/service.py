"""Use cases of the sharing domain that other domains call."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import Forbidden, NotFound, Unauthenticated
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing import repository
from lifeos_gql.domains.sharing.policy import Role


async def stream_roles(
    *, uow: UnitOfWork, actor: Actor, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Role]:
    """Batch getter: the actor's role per stream (absent = not visible)."""
    if actor.user_id is None:
        return {}
    return await repository.roles_for_streams(uow, actor.user_id, stream_ids)


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
    if actor.user_id is None:
        raise Unauthenticated("Sign in to do this")
    role = (await repository.roles_for_streams(uow, actor.user_id, [stream_id])).get(stream_id)
    if role is None:
        raise NotFound("Stream not found", field="streamId")
    if not allowed(role):
        raise Forbidden(f"Your role ({role.value}) may not {action}", role=role.value)
    return role
