"""Use cases of the insights domain: store a capture's insights, batch reads.

An insight is visible only to readers who can see every capture in its
lineage (``insight_sources``); the batch getters apply that rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.cursors import decode_cursor
from lifeos_gql.core.errors import Conflict
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.insights import repository
from lifeos_gql.domains.insights.models import InsightRecord, NewInsight
from lifeos_gql.domains.insights.repository import InsightRow
from lifeos_gql.domains.insights.sealing import fingerprint, seal_text, unseal_text
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing


@dataclass(frozen=True, slots=True)
class InsightsChange:
    """Outcome of replacing a capture's insights: ids added, kept and superseded."""

    added: list[tuple[uuid.UUID, NewInsight]] = field(default_factory=list)
    kept: list[uuid.UUID] = field(default_factory=list)
    superseded: list[uuid.UUID] = field(default_factory=list)


async def owner_data_key(crypto: CaptureCrypto, owner_id: uuid.UUID) -> bytes:
    """The owner's data key; CONFLICT if it was destroyed (the owner erased)."""
    key = await crypto.keys.data_key_for(owner_id, create=False)
    if key is None:
        raise Conflict("The owner's data key no longer exists")
    return key


async def replace_capture_insights(
    *,
    uow: UnitOfWork,
    crypto: CaptureCrypto,
    owner_id: uuid.UUID,
    capture_id: uuid.UUID,
    producer: str,
    insights: Sequence[NewInsight],
    at: datetime,
) -> InsightsChange:
    """Make ``insights`` the capture's current insights.

    An insight equal to a current one (same kind and text) keeps its id;
    current ones not in ``insights`` are superseded (kept for history);
    the rest are inserted encrypted. Re-applying the same list changes nothing.
    """
    data_key = await owner_data_key(crypto, owner_id)
    current = await repository.current_for_capture(uow, owner_id, capture_id)
    by_print = {fp: insight_id for insight_id, fp in current if fp is not None}
    change = InsightsChange()
    new_rows: list[InsightRow] = []
    seen: set[bytes] = set()
    for item in insights:
        print_ = fingerprint(data_key, capture_id, item.kind, item.text)
        if print_ in seen:  # the analyser repeated itself
            continue
        seen.add(print_)
        if print_ in by_print:
            change.kept.append(by_print[print_])
            continue
        insight_id = uuid.uuid4()
        new_rows.append(
            InsightRow(
                id=insight_id,
                owner_id=owner_id,
                kind=item.kind,
                text_enc=seal_text(crypto.cipher, data_key, insight_id, item.text),
                confidence=item.confidence,
                producer=producer,
                generated_at=at,
                fingerprint=print_,
            )
        )
        change.added.append((insight_id, item))
    kept = set(change.kept)
    change.superseded.extend(insight_id for insight_id, _ in current if insight_id not in kept)
    # Supersede before inserting: the unique index covers current rows only.
    await repository.supersede(uow, change.superseded, at)
    await repository.insert_for_capture(uow, new_rows, capture_id)
    return change


async def _visible(uow: UnitOfWork, actor: Actor, rows: Sequence[Any]) -> list[Any]:
    lineage = [c for row in rows for c in row.capture_ids]
    streams = await repository.streams_of_captures(uow, lineage)
    roles = await sharing.stream_roles(uow=uow, actor=actor, stream_ids=list(set(streams.values())))
    readable = {stream for stream, role in roles.items() if policy.can_read(role)}
    return [
        row
        for row in rows
        # A lineage capture that no longer exists hides the insight.
        if all(c in streams for c in row.capture_ids)
        and policy.sees_node({streams[c] for c in row.capture_ids}, readable, every=True)
    ]


async def _decrypt(crypto: CaptureCrypto, rows: Sequence[Any]) -> list[InsightRecord]:
    keys: dict[uuid.UUID, bytes | None] = {}
    for owner in {row.owner_id for row in rows}:
        keys[owner] = await crypto.keys.data_key_for(owner, create=False)
    records = []
    for row in rows:
        key = keys[row.owner_id]
        records.append(
            InsightRecord(
                id=row.id,
                owner_id=row.owner_id,
                kind=row.kind,
                text=unseal_text(crypto.cipher, key, row.id, row.text_enc) if key else None,
                confidence=float(row.confidence),
                producer=row.producer,
                generated_at=row.generated_at,
                superseded_at=row.superseded_at,
                capture_ids=tuple(row.capture_ids),
            )
        )
    return records


async def insights_by_ids(
    *, uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, InsightRecord]:
    """Batch getter for loaders: visible insights (current or superseded), decrypted."""
    rows = await _visible(uow, actor, await repository.get_many(uow, ids))
    return {record.id: record for record in await _decrypt(crypto, rows)}


async def insights_by_capture_ids(
    *, uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, capture_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InsightRecord]]:
    """Batch getter for loaders: each capture's current visible insights, newest first."""
    rows = await _visible(uow, actor, await repository.current_for_captures(uow, capture_ids))
    wanted = set(capture_ids)
    out: dict[uuid.UUID, list[InsightRecord]] = {cid: [] for cid in capture_ids}
    for record in await _decrypt(crypto, rows):
        for cid in record.capture_ids:
            if cid in wanted:
                out[cid].append(record)
    return out


@dataclass(frozen=True, slots=True)
class StreamInsightsKey:
    """One ``Stream.insights`` page: the loaders' key."""

    stream_id: uuid.UUID
    first: int
    after: str | None


async def pages_of_stream_insights(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    keys: Sequence[StreamInsightsKey],
) -> dict[StreamInsightsKey, tuple[list[InsightRecord], bool]]:
    """Batch getter for loaders: a keyset page of each stream's current insights
    the actor may see; one query per page shape, one visibility check for all.

    Insights whose lineage reaches a stream the actor cannot read are left
    out of the page (so a page may hold fewer than ``first``), never shown.
    """
    shapes: dict[tuple[int, str | None], list[StreamInsightsKey]] = {}
    for key in keys:
        shapes.setdefault((key.first, key.after), []).append(key)
    pages: dict[StreamInsightsKey, tuple[list[Any], bool]] = {}
    for (first, after), group in shapes.items():
        rows = await repository.current_for_streams(
            uow,
            [k.stream_id for k in group],
            after=decode_cursor(after) if after else None,
            limit=first + 1,
        )
        by_stream: dict[uuid.UUID, list[Any]] = {}
        for row in rows:
            by_stream.setdefault(row.stream_id, []).append(row)
        for key in group:
            page = by_stream.get(key.stream_id, [])
            pages[key] = (page[:first], len(page) > first)
    rows = _unique([row for page, _ in pages.values() for row in page])
    visible = await _visible(uow, actor, rows)
    records = {record.id: record for record in await _decrypt(crypto, visible)}
    return {
        key: ([records[r.id] for r in page if r.id in records], has_next)
        for key, (page, has_next) in pages.items()
    }


def _unique(rows: Sequence[Any]) -> list[Any]:
    """``rows`` without repeats (an insight drawn from two streams is on both pages)."""
    return list({row.id: row for row in rows}.values())
