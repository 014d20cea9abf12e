"""Use cases of the streams domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.cursors import decode_cursor
from lifeos_gql.core.errors import BadInput
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.streams import repository
from lifeos_gql.domains.streams.models import MAX_NAME_LENGTH, SourceKind, Stream


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadInput("Stream name must not be empty", field="name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise BadInput(f"Stream name is longer than {MAX_NAME_LENGTH} characters", field="name")
    return cleaned


async def create_stream(
    *,
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    source: SourceKind,
    settings: dict[str, Any] | None = None,
) -> Stream:
    """Create a stream owned by the actor."""
    owner_id = actor.require_user_id()
    stream = await repository.insert(
        uow, owner_id=owner_id, name=_clean_name(name), source=source.value, settings=settings or {}
    )
    await audit.record(
        uow=uow,
        owner_id=owner_id,
        action="stream.create",
        target_type="Stream",
        target_id=str(stream.id),
        details={"source": source.value},
    )
    return stream


async def rename_stream(
    *, uow: UnitOfWork, actor: Actor, stream_id: uuid.UUID, name: str
) -> Stream:
    """Rename a stream (owner only)."""
    await sharing.require_stream_role(
        uow=uow, actor=actor, stream_id=stream_id, allowed=policy.can_manage, action="rename it"
    )
    stream = await repository.rename(uow, stream_id, _clean_name(name))
    await audit.record(
        uow=uow,
        owner_id=stream.owner_id,
        action="stream.rename",
        target_type="Stream",
        target_id=str(stream_id),
    )
    return stream


async def delete_stream(*, uow: UnitOfWork, actor: Actor, stream_id: uuid.UUID) -> None:
    """Delete a stream and everything captured in it (owner only)."""
    await sharing.require_stream_role(
        uow=uow, actor=actor, stream_id=stream_id, allowed=policy.can_manage, action="delete it"
    )
    await repository.delete(uow, stream_id)
    await audit.record(
        uow=uow,
        owner_id=actor.user_id,
        action="stream.delete",
        target_type="Stream",
        target_id=str(stream_id),
    )


async def streams_by_ids(
    *, uow: UnitOfWork, actor: Actor, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Stream]:
    """Batch getter for loaders: only streams the actor can see."""
    roles = await sharing.stream_roles(uow=uow, actor=actor, stream_ids=ids)
    visible = [sid for sid in ids if policy.can_read(roles.get(sid))]
    return await repository.get_many(uow, visible)


async def list_my_streams(
    *, uow: UnitOfWork, actor: Actor, first: int, after: str | None
) -> tuple[list[Stream], bool]:
    """One keyset page of the actor's streams; returns (page, has_next)."""
    user_id = actor.require_user_id()
    cursor = decode_cursor(after) if after else None
    rows = await repository.page_visible_to(uow, user_id, after=cursor, limit=first + 1)
    return rows[:first], len(rows) > first
