"""Reading the ``events`` log: the live listener's tail and a subscriber's replay.

Rows are appended by the graph writers (``repository.append_events``) in the
transaction of the change they record, in commit order (see the events lock
there). Payloads hold ids and codes only; whether a reader may see an event
is decided per reader and per event by the sharing policy, not here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.graph import repository
from lifeos_gql.domains.graph.models import EventRecord
from lifeos_gql.domains.sharing import service as sharing

__all__ = ["EventRecord", "events_after", "latest_event_id", "replay_for"]


def _record(row: Any) -> EventRecord:
    payload = row.payload if isinstance(row.payload, dict) else {}
    return EventRecord(
        id=int(row.id),
        owner_id=row.owner_id,
        stream_ids=tuple(row.stream_ids or ()),
        kind=row.kind,
        node_type=row.node_type,
        node_id=row.node_id,
        payload=payload,
        created_at=row.created_at,
    )


async def latest_event_id(*, uow: UnitOfWork) -> int:
    """The highest event id committed so far (0 when there is none)."""
    return await repository.max_event_id(uow)


async def events_after(*, uow: UnitOfWork, after_id: int, limit: int = 500) -> list[EventRecord]:
    """Every owner's events after ``after_id``, oldest first: the process listener's read.

    Run it on the privileged handle; each event is filtered per subscriber later.
    """
    return [_record(r) for r in await repository.events_after(uow, after_id, limit)]


async def replay_for(
    *,
    uow: UnitOfWork,
    actor: Actor,
    after_id: int,
    upto_id: int,
    kinds: Sequence[str],
    limit: int = 200,
) -> list[EventRecord]:
    """Events of ``kinds`` in ``(after_id, upto_id]`` from owners whose streams the
    actor may read now, oldest first: candidates for a resuming subscriber.

    A coarse filter only (by owner); the caller checks each event's node.
    """
    readable = await sharing.readable_streams(uow=uow, actor=actor)
    access = await sharing.stream_access(uow=uow, actor=actor, stream_ids=readable)
    owners: list[uuid.UUID] = sorted({a.owner_id for a in access.values()})
    rows = await repository.owners_events_between(uow, owners, after_id, upto_id, kinds, limit)
    return [_record(r) for r in rows]
