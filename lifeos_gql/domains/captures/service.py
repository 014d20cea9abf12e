"""Use cases of the captures domain: ingest (single and batch) and reads.

Everything about one request happens in one transaction: validation, role
checks, encryption, one multi-row insert, duplicate lookup, the audit row.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.cursors import decode_cursor
from lifeos_gql.core.errors import BadInput, Conflict, PayloadTooLarge
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.captures import repository
from lifeos_gql.domains.captures.models import (
    AnalysisStatus,
    CaptureDraft,
    CaptureLimits,
    CaptureRecord,
    DuplicateReason,
    IngestOutcome,
    IngestStatus,
)
from lifeos_gql.domains.captures.sealing import (
    RowSealer,
    content_hash,
    content_hash_key,
    unseal,
)
from lifeos_gql.domains.captures.validation import (
    Invalid,
    ValidDraft,
    content_identity,
    validate,
)
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.infra.crypto.fields import FieldCipher
from lifeos_gql.infra.crypto.keystore import KeyService


class JobPlanner(Protocol):
    """Queues analysis of captures about to be inserted (``jobs.outbox.JobsAtInsert``).

    ``assign`` answers the job of each ``(capture_id, owner_id)`` before the
    insert, so rows are written already linked; ``settle`` is told which rows
    the insert kept, so no job carries a capture that was a duplicate.
    """

    async def assign(
        self, uow: UnitOfWork, rows: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[uuid.UUID, int]: ...

    async def settle(
        self, uow: UnitOfWork, planned: dict[uuid.UUID, int], inserted: set[uuid.UUID]
    ) -> None: ...


class CaptureCrypto:
    """The key service and cipher captures are sealed with (one per process)."""

    def __init__(self, keys: KeyService, cipher: FieldCipher) -> None:
        self.keys = keys
        self.cipher = cipher


async def ingest(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    limits: CaptureLimits,
    drafts: Sequence[CaptureDraft],
    idempotency_key: str | None = None,
    jobs: JobPlanner | None = None,
) -> list[IngestOutcome]:
    """Capture ``drafts``; one outcome per draft, in order.

    Bad items are reported (``INVALID`` with a code) while the good ones are
    stored. A retried item (same stream and external id, or identical
    content) is ``DUPLICATE`` and returns the first capture. With an
    ``idempotency_key`` a retried request returns the first response. With
    ``jobs``, new captures are inserted already carried by analysis jobs.
    """
    user_id = actor.require_user_id()
    if len(drafts) > limits.max_batch_items:
        raise PayloadTooLarge(
            f"{len(drafts)} items; a batch holds at most {limits.max_batch_items}",
            field="inputs",
        )
    if idempotency_key is not None:
        return await _ingest_idempotent(
            uow=uow,
            actor=actor,
            user_id=user_id,
            crypto=crypto,
            limits=limits,
            drafts=drafts,
            key=idempotency_key,
            jobs=jobs,
        )
    return await _ingest(
        uow=uow, actor=actor, crypto=crypto, limits=limits, drafts=drafts, jobs=jobs
    )


async def _ingest(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    limits: CaptureLimits,
    drafts: Sequence[CaptureDraft],
    jobs: JobPlanner | None = None,
) -> list[IngestOutcome]:
    user_id = actor.require_user_id()
    now = utcnow()
    outcomes: dict[int, IngestOutcome] = {}
    valid: dict[int, ValidDraft] = {}
    for index, draft in enumerate(drafts):
        checked = validate(draft, limits, now)
        if isinstance(checked, Invalid):
            outcomes[index] = IngestOutcome(
                index,
                IngestStatus.INVALID,
                code=checked.code,
                message=checked.message,
                field=checked.field,
            )
        else:
            valid[index] = checked

    stream_ids = list({v.draft.stream_id for v in valid.values()})
    access = await sharing.stream_access(uow=uow, actor=actor, stream_ids=stream_ids)
    owners = {sid: a.owner_id for sid, a in access.items()}
    for index, v in list(valid.items()):
        role = access[v.draft.stream_id].role if v.draft.stream_id in access else None
        if role is None:
            outcomes[index] = IngestOutcome(
                index,
                IngestStatus.INVALID,
                code="NOT_FOUND",
                message="Stream not found",
                field="streamId",
            )
            del valid[index]
        elif not policy.can_capture(role):
            outcomes[index] = IngestOutcome(
                index,
                IngestStatus.INVALID,
                code="FORBIDDEN",
                message=f"Your role ({role.value}) may not capture into this stream",
                field="streamId",
            )
            del valid[index]

    keys: dict[uuid.UUID, bytes] = {}
    hash_keys: dict[uuid.UUID, bytes] = {}
    sealers: dict[uuid.UUID, RowSealer] = {}
    for owner in {owners[v.draft.stream_id] for v in valid.values()}:
        key = await crypto.keys.data_key_for(owner, create=True)
        assert key is not None  # create=True never answers None
        keys[owner] = key
        hash_keys[owner] = content_hash_key(key)
        sealers[owner] = RowSealer(crypto.cipher, key)

    # First pass: which items are new (not repeated within the batch), with
    # their ids and owners; the analysis jobs are known before sealing.
    fresh: list[tuple[int, ValidDraft, uuid.UUID, bytes, uuid.UUID]] = []
    first_by_identity: dict[tuple[uuid.UUID, str, Any], int] = {}
    in_batch_dupes: dict[int, tuple[int, DuplicateReason]] = {}
    for index, v in valid.items():
        owner = owners[v.draft.stream_id]
        digest = content_hash(hash_keys[owner], content_identity(v))
        ext_key = (v.draft.stream_id, "ext", v.draft.external_id)
        hash_key = (v.draft.stream_id, "hash", digest)
        if v.draft.external_id is not None and ext_key in first_by_identity:
            in_batch_dupes[index] = (first_by_identity[ext_key], DuplicateReason.EXTERNAL_ID)
            continue
        if hash_key in first_by_identity:
            in_batch_dupes[index] = (first_by_identity[hash_key], DuplicateReason.CONTENT_HASH)
            continue
        if v.draft.external_id is not None:
            first_by_identity[ext_key] = index
        first_by_identity[hash_key] = index
        fresh.append((index, v, owner, digest, uuid.uuid4()))

    # The jobs are queued while this process encrypts (Postgres and Python on
    # separate cores); rows get their job ids once both are done.
    planned: dict[uuid.UUID, int] = {}
    assign = (
        asyncio.ensure_future(jobs.assign(uow, [(f[4], f[2]) for f in fresh]))
        if jobs is not None and fresh
        else None
    )
    try:
        if assign is not None:
            await asyncio.sleep(0)  # the task sends its statement, then awaits the result
        sealed = [_seal(sealers[owner], capture_id, v) for _, v, owner, _, capture_id in fresh]
    finally:
        if assign is not None:
            planned = await assign

    rows: list[repository.NewCaptureRow] = []
    row_of: dict[int, repository.NewCaptureRow] = {}
    for (index, v, owner, digest, capture_id), (title, content, data) in zip(
        fresh, sealed, strict=True
    ):
        row = repository.NewCaptureRow(
            capture_id,
            owner,
            v.draft.stream_id,
            user_id,
            v.occurred_at,
            title,
            content,
            data,
            digest,
            v.size_bytes,
            v.draft.external_id,
            planned.get(capture_id),
        )
        rows.append(row)
        row_of[index] = row

    inserted: set[uuid.UUID] = set()
    records: dict[int, CaptureRecord] = {}
    if rows:
        await repository.stage(uow, rows)
        # Postgres runs the INSERT on the other core while this process builds
        # what it answers if every row goes in (nearly always): one request's
        # Python work and the database's no longer wait for each other.
        insert = asyncio.ensure_future(repository.insert_staged(uow, [r.id for r in rows]))
        try:
            await asyncio.sleep(0)  # the task sends the statement, then awaits its result
            records = {index: _new_record(row, valid[index], now) for index, row in row_of.items()}
        finally:
            inserted = await insert
    if jobs is not None and planned:
        await jobs.settle(uow, planned, inserted)
    created: dict[int, CaptureRecord] = {}
    for index, row in row_of.items():
        if row.id in inserted:
            created[index] = records[index]
            outcomes[index] = IngestOutcome(index, IngestStatus.CREATED, capture=records[index])

    conflicted = {i: r for i, r in row_of.items() if r.id not in inserted}
    if conflicted:
        existing = await repository.find_existing(
            uow, [(r.stream_id, r.external_id, r.content_hash) for r in conflicted.values()]
        )
        for index, row in conflicted.items():
            match, reason = _match_existing(row, existing)
            record = _decrypt(crypto, keys, match) if match is not None else None
            outcomes[index] = IngestOutcome(
                index, IngestStatus.DUPLICATE, capture=record, duplicate_reason=reason
            )
    for index, (first, reason) in in_batch_dupes.items():
        outcomes[index] = IngestOutcome(
            index,
            IngestStatus.DUPLICATE,
            capture=outcomes[first].capture,
            duplicate_reason=reason,
        )

    if created:
        await audit.record(
            uow=uow,
            owner_id=user_id,
            action="capture.create",
            target_type="Capture",
            details={
                "count": len(created),
                "streams": sorted({str(c.stream_id) for c in created.values()}),
            },
            # Capture ids, made here: no user id to pseudonymise among them.
            object_ids={"ids": [str(c.id) for c in created.values()]},
        )
    return [outcomes[i] for i in range(len(drafts))]


def _seal(
    sealer: RowSealer, capture_id: uuid.UUID, v: ValidDraft
) -> tuple[bytes | None, bytes | None, bytes | None]:
    """Title, content and data of a new capture, encrypted and bound to its id."""
    return (
        sealer.seal(capture_id, "title", v.title.encode() if v.title is not None else None),
        sealer.seal(capture_id, "content", v.content.encode() if v.content is not None else None),
        sealer.seal(capture_id, "data", v.data_json),
    )


def _new_record(row: repository.NewCaptureRow, v: ValidDraft, now: datetime) -> CaptureRecord:
    return CaptureRecord(
        id=row.id,
        owner_id=row.owner_id,
        stream_id=row.stream_id,
        author_id=row.author_id,
        occurred_at=row.occurred_at,
        captured_at=now,
        title=v.title,
        content=v.content,
        data=v.draft.data,
        external_id=row.external_id,
        size_bytes=row.size_bytes,
        analysis_status=AnalysisStatus.PENDING,
        analysis_error=None,
    )


def _match_existing(
    row: repository.NewCaptureRow, existing: Sequence[Any]
) -> tuple[Any | None, DuplicateReason | None]:
    for found in existing:
        if found.stream_id != row.stream_id:
            continue
        if row.external_id is not None and found.external_id == row.external_id:
            return found, DuplicateReason.EXTERNAL_ID
    for found in existing:
        if found.stream_id == row.stream_id and bytes(found.content_hash) == row.content_hash:
            return found, DuplicateReason.CONTENT_HASH
    return None, None


def _decrypt(crypto: CaptureCrypto, keys: dict[uuid.UUID, bytes], row: Any) -> CaptureRecord:
    data_key = keys.get(row.owner_id)
    title = content = data = None
    if data_key is not None:
        cipher = crypto.cipher
        raw_title = unseal(cipher, data_key, row.id, "title", row.title_enc)
        raw_content = unseal(cipher, data_key, row.id, "content", row.content_enc)
        raw_data = unseal(cipher, data_key, row.id, "data", row.data_enc)
        title = raw_title.decode() if raw_title is not None else None
        content = raw_content.decode() if raw_content is not None else None
        data = orjson.loads(raw_data) if raw_data is not None else None
    return CaptureRecord(
        id=row.id,
        owner_id=row.owner_id,
        stream_id=row.stream_id,
        author_id=row.author_id,
        occurred_at=row.occurred_at,
        captured_at=row.captured_at,
        title=title,
        content=content,
        data=data,
        external_id=row.external_id,
        size_bytes=row.size_bytes,
        analysis_status=AnalysisStatus(row.analysis_status),
        analysis_error=row.analysis_error,
    )


async def _keys_for(crypto: CaptureCrypto, owners: set[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    keys: dict[uuid.UUID, bytes] = {}
    for owner in owners:
        key = await crypto.keys.data_key_for(owner, create=False)
        if key is not None:
            keys[owner] = key
    return keys


async def decrypt_rows(crypto: CaptureCrypto, rows: Sequence[Any]) -> list[CaptureRecord]:
    keys = await _keys_for(crypto, {row.owner_id for row in rows})
    return [_decrypt(crypto, keys, row) for row in rows]


async def captures_by_ids(
    *, uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CaptureRecord]:
    """Batch getter for loaders: visible captures, decrypted."""
    rows = await repository.get_many(uow, ids)
    roles = await sharing.stream_roles(
        uow=uow, actor=actor, stream_ids=list({r.stream_id for r in rows})
    )
    visible = [r for r in rows if policy.can_read(roles.get(r.stream_id))]
    return {record.id: record for record in await decrypt_rows(crypto, visible)}


async def page_captures(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    first: int,
    after: str | None,
    stream_ids: Sequence[uuid.UUID] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[CaptureRecord], bool]:
    """A keyset page of visible captures, newest first; returns (page, has_next)."""
    user_id = actor.user_id
    if user_id is None:
        return [], False
    if since is not None and until is not None and since >= until:
        raise BadInput("`from` must be before `to`", field="from")
    cursor = decode_cursor(after) if after else None
    rows = await repository.page(
        uow,
        user_id=user_id,
        stream_ids=stream_ids,
        after=cursor,
        since=since,
        until=until,
        limit=first + 1,
    )
    records = await decrypt_rows(crypto, rows[:first])
    return records, len(rows) > first


@dataclass(frozen=True, slots=True)
class StreamPageKey:
    """One ``Stream.captures`` page request: loaders batch keys that share the rest."""

    stream_id: uuid.UUID
    first: int
    after: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def pages_per_stream(
    *, uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, keys: Sequence[StreamPageKey]
) -> dict[StreamPageKey, tuple[list[CaptureRecord], bool]]:
    """Batch getter for loaders: a keyset page per stream, one query per page shape."""
    out: dict[StreamPageKey, tuple[list[CaptureRecord], bool]] = {}
    if actor.user_id is None:
        return {key: ([], False) for key in keys}
    shapes: dict[tuple[int, str | None, datetime | None, datetime | None], list[StreamPageKey]] = {}
    for key in keys:
        if key.since is not None and key.until is not None and key.since >= key.until:
            raise BadInput("`from` must be before `to`", field="from")
        shapes.setdefault((key.first, key.after, key.since, key.until), []).append(key)
    for (first, after, since, until), group in shapes.items():
        rows = await repository.page_per_stream(
            uow,
            user_id=actor.user_id,
            stream_ids=[k.stream_id for k in group],
            after=decode_cursor(after) if after else None,
            since=since,
            until=until,
            limit=first + 1,
        )
        by_stream: dict[uuid.UUID, list[Any]] = {}
        for row in rows:
            by_stream.setdefault(row.stream_id, []).append(row)
        for key in group:
            page = by_stream.get(key.stream_id, [])
            out[key] = (await decrypt_rows(crypto, page[:first]), len(page) > first)
    return out


def _request_hash(drafts: Sequence[CaptureDraft]) -> bytes:
    canonical = orjson.dumps(
        [
            [
                str(d.stream_id),
                d.occurred_at.isoformat() if d.occurred_at else None,
                d.title,
                d.content,
                d.data,
                d.external_id,
            ]
            for d in drafts
        ],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).digest()


async def _ingest_idempotent(
    *,
    uow: UnitOfWork,
    actor: Actor,
    user_id: uuid.UUID,
    crypto: CaptureCrypto,
    limits: CaptureLimits,
    drafts: Sequence[CaptureDraft],
    key: str,
    jobs: JobPlanner | None,
) -> list[IngestOutcome]:
    if not 0 < len(key) <= 255:
        raise BadInput("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
    scope = "captures"
    request_hash = _request_hash(drafts)
    await repository.lock_idempotency_key(uow, user_id, scope, key)
    stored = await repository.get_idempotent(uow, user_id, scope, key)
    if stored is not None:
        if stored[0] != request_hash:
            raise Conflict(
                "Idempotency-Key was already used for a different request",
                field="Idempotency-Key",
            )
        return await _replay(uow=uow, actor=actor, crypto=crypto, saved=stored[1])
    outcomes = await _ingest(
        uow=uow, actor=actor, crypto=crypto, limits=limits, drafts=drafts, jobs=jobs
    )
    saved = [
        {
            "index": o.index,
            "status": o.status.value,
            "id": str(o.capture.id) if o.capture else None,
            "reason": o.duplicate_reason.value if o.duplicate_reason else None,
            "code": o.code,
            "message": o.message,
            "field": o.field,
        }
        for o in outcomes
    ]
    await repository.put_idempotent(
        uow, user_id, scope, key, request_hash, orjson.dumps(saved).decode()
    )
    return outcomes


async def _replay(
    *, uow: UnitOfWork, actor: Actor, crypto: CaptureCrypto, saved: list[dict[str, Any]]
) -> list[IngestOutcome]:
    ids = [uuid.UUID(s["id"]) for s in saved if s["id"]]
    records = await captures_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)
    return [
        IngestOutcome(
            index=s["index"],
            status=IngestStatus(s["status"]),
            capture=records.get(uuid.UUID(s["id"])) if s["id"] else None,
            duplicate_reason=DuplicateReason(s["reason"]) if s["reason"] else None,
            code=s["code"],
            message=s["message"],
            field=s["field"],
        )
        for s in saved
    ]
