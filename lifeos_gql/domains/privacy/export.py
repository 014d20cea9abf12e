"""GDPR export: ``exportMyData`` queues a job that builds an encrypted archive.

Flow: :func:`request_export` inserts a ``PENDING`` export and defers the
build job in the same transaction; :func:`build_export` (the job) writes a
zip of JSON files to a temp file page by page, then stores it sealed in
chunks under the owner's data key and marks the export ``READY``;
:func:`open_download` checks an export can be served and yields its chunks
decrypted, one short transaction per chunk. Archives expire after
``EXPORT_TTL``; erasing the user removes them with everything else.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, Final

from sqlalchemy import text

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import NotFound
from lifeos_gql.db.uow import Database, UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.privacy import export_repository as repo
from lifeos_gql.domains.privacy.archive import (
    FORMAT_VERSION,
    ArchiveWriter,
    chunk_aad,
    file_digest,
    sealed_chunks,
)
from lifeos_gql.domains.privacy.models import ExportRecord, ExportStatus

log = logging.getLogger(__name__)

TASK_NAME: Final = "lifeos.build_export"
QUEUE: Final = "exports"
#: How long an archive can be downloaded after it was requested.
EXPORT_TTL: Final = timedelta(days=7)
#: A build still PENDING after this is presumed lost (its worker died): a new
#: request starts over instead of waiting on it forever.
STALE_PENDING: Final = timedelta(hours=1)
PAGE: Final = 500

_DEFER = text(
    """
    SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[
        ROW(:queue, :task, 0, NULL, NULL, jsonb_build_object('export_id', CAST(:export_id AS text)),
            NULL)::procrastinate_job_to_defer_v1
    ])) AS id
    """
)

README = """LifeOS data export
==================

Everything LifeOS stores about you, as JSON (UTF-8):

- manifest.json        format version, when it was made, how many items each file holds
- profile.json         your account
- streams.json         streams you own or were granted, with your role
- captures.json        your captures (decrypted), and those you added to others' streams
                       that you can still see
- insights.json        insights derived from your captures (decrypted), with their lineage
- concepts.json        people, places, topics ... extracted from your captures
- edges.json           your knowledge graph's edges, and links you made in shared streams
- grants_given.json    who you shared your streams with (and pending invitations)
- grants_received.json streams others shared with you
- api_tokens.json      your tokens' metadata (never their secrets)
- personas.json        your personas: their streams and who they are shared with
- share_links.json     links you made to share a node outside LifeOS (never their secrets)
- audit.json           your audit trail, with the hash chain that proves it unaltered
"""


# ---- requesting and listing -------------------------------------------------------


async def request_export(*, uow: UnitOfWork, actor: Actor) -> ExportRecord:
    """Queue an export of everything about the actor; returns it ``PENDING``.

    A build already under way is returned instead of starting a second one.
    Expired archives of the actor are dropped on the way.
    """
    owner = actor.require_user_id()
    now = utcnow()
    await repo.drop_expired(uow, owner, now=now)
    pending = await repo.pending_export(uow, owner, now=now)
    if pending is not None and now - pending.created_at < STALE_PENDING:
        return pending
    if pending is not None:
        await repo.mark_failed(uow, pending.id, "EXPORT_TIMED_OUT")
    record = await repo.insert_export(uow, owner, now=now, expires_at=now + EXPORT_TTL)
    await uow.execute(_DEFER, {"queue": QUEUE, "task": TASK_NAME, "export_id": str(record.id)})
    await audit.record(
        uow=uow,
        owner_id=owner,
        action="export.requested",
        target_type="Export",
        target_id=str(record.id),
    )
    return record


async def exports_of_users(
    *, uow: UnitOfWork, actor: Actor, user_ids: list[uuid.UUID], limit: int = 20
) -> dict[uuid.UUID, list[ExportRecord]]:
    """Batch getter: each user's newest exports; only the actor sees their own."""
    mine = [u for u in user_ids if u == actor.user_id]
    found = await repo.list_exports(uow, mine, now=utcnow(), limit=limit)
    return {u: found.get(u, []) for u in user_ids}


# ---- building (the job) -----------------------------------------------------------


async def build_export(db: Database, crypto: CaptureCrypto, export_id: uuid.UUID) -> str:
    """Build and store the archive of a ``PENDING`` export; returns what happened.

    Tolerates the export (or its owner) vanishing meanwhile: an erasure while
    a build runs wins, and the build's result is discarded.
    """
    async with db.transaction() as uow:
        record = await repo.get_export(uow, export_id, now=utcnow())
    if record is None or record.status is not ExportStatus.PENDING:
        return "skipped"
    owner = record.owner_id
    try:
        # A user who never stored anything has no key yet: the archive needs one.
        data_key = await crypto.keys.data_key_for(owner, create=True)
        assert data_key is not None
        with tempfile.TemporaryFile(prefix="lifeos-export-") as handle:
            await _write_archive(db, crypto, owner, handle)
            return await _store(db, crypto, data_key, export_id, owner, handle)
    except Exception as exc:
        # Failed for good (no retry): the user asks again. Logged without content.
        log.warning("export %s failed: %s", export_id, exc.__class__.__name__)
        async with db.transaction(owner) as uow:
            await repo.mark_failed(uow, export_id, "EXPORT_FAILED")
        return "failed"


async def _store(
    db: Database,
    crypto: CaptureCrypto,
    data_key: bytes,
    export_id: uuid.UUID,
    owner: uuid.UUID,
    handle: IO[bytes],
) -> str:
    size, sha = file_digest(handle)
    async with db.transaction(owner) as uow:
        if await repo.lock_pending(uow, export_id) is None:
            return "skipped"
        count = 0
        for seq, chunk in sealed_chunks(handle, crypto.cipher, data_key, export_id, size):
            await repo.insert_chunk(uow, export_id, owner, seq, chunk)
            count += 1
        await repo.mark_ready(
            uow, export_id, now=utcnow(), size_bytes=size, chunk_count=count, sha256=sha
        )
        await audit.record(
            uow=uow,
            owner_id=owner,
            action="export.ready",
            target_type="Export",
            target_id=str(export_id),
            details={"sizeBytes": size, "chunks": count},
        )
    return "ready"


async def _write_archive(
    db: Database, crypto: CaptureCrypto, owner: uuid.UUID, handle: IO[bytes]
) -> None:
    actor = Actor(user_id=owner, via="export")
    archive = ArchiveWriter(handle)
    async with db.transaction(owner) as uow:
        profile = await repo.profile(uow, owner)
        streams = await repo.streams(uow, owner)
    archive.write_text("README.txt", README)
    archive.write_json("profile.json", profile or {})
    archive.write_json("streams.json", streams)

    async def decrypted_captures(uow: UnitOfWork, ids: list[uuid.UUID]) -> list[Any]:
        found = await captures.captures_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)
        return [_capture_json(found[i]) for i in ids if i in found]

    async def decrypted_insights(uow: UnitOfWork, ids: list[uuid.UUID]) -> list[Any]:
        found = await insights.insights_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)
        return [_insight_json(found[i]) for i in ids if i in found]

    await _paged_ids(db, owner, archive, "captures.json", repo.capture_ids_page, decrypted_captures)
    await _paged_ids(db, owner, archive, "insights.json", repo.insight_ids_page, decrypted_insights)
    for kind in (
        "concepts",
        "edges",
        "grants_given",
        "grants_received",
        "api_tokens",
        "personas",
        "share_links",
    ):
        with archive.json_array(f"{kind}.json") as out:
            after: uuid.UUID | None = None
            while True:
                async with db.transaction(owner) as uow:
                    rows = await repo.plain_page(uow, kind, owner, after=after, limit=PAGE)
                out.write_all(rows)
                if len(rows) < PAGE:
                    break
                after = rows[-1]["id"]
    async with db.transaction(owner) as uow:
        pseudonym = await audit.pseudonym_for(uow, owner)
    with archive.json_array("audit.json") as out:
        # Rows written before pseudonyms existed sit on the old ``user:<id>`` chain.
        for chain in (f"user:{owner}", audit.chain_of(pseudonym)):
            seq = 0
            while True:
                async with db.transaction(owner) as uow:
                    rows = await repo.audit_page(uow, chain, after_seq=seq, limit=PAGE)
                out.write_all({"chain": chain, **row} for row in rows)
                if len(rows) < PAGE:
                    break
                seq = rows[-1]["seq"]
    archive.write_json(
        "manifest.json",
        {
            "format": "lifeos-export",
            "version": FORMAT_VERSION,
            "generatedAt": utcnow(),
            "userId": str(owner),
            "counts": archive.counts,
        },
    )
    archive.close()


IdPage = Callable[..., Awaitable[list[uuid.UUID]]]


async def _paged_ids(
    db: Database,
    owner: uuid.UUID,
    archive: ArchiveWriter,
    name: str,
    page: IdPage,
    load: Callable[[UnitOfWork, list[uuid.UUID]], Awaitable[list[Any]]],
) -> None:
    with archive.json_array(name) as out:
        after: uuid.UUID | None = None
        while True:
            async with db.transaction(owner) as uow:
                ids = await page(uow, owner, after=after, limit=PAGE)
                items = await load(uow, ids)
            out.write_all(items)
            if len(ids) < PAGE:
                return
            after = ids[-1]


def _capture_json(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "streamId": record.stream_id,
        "ownerId": record.owner_id,
        "authorId": record.author_id,
        "occurredAt": record.occurred_at,
        "capturedAt": record.captured_at,
        "title": record.title,
        "content": record.content,
        "data": record.data,
        "externalId": record.external_id,
        "analysisStatus": record.analysis_status.value,
    }


def _insight_json(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "text": record.text,
        "confidence": record.confidence,
        "producer": record.producer,
        "generatedAt": record.generated_at,
        "supersededAt": record.superseded_at,
        "captureIds": list(record.capture_ids),
    }


# ---- downloading ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Download:
    """A READY export about to be streamed."""

    export: ExportRecord
    chunks: AsyncIterator[bytes]

    @property
    def filename(self) -> str:
        return f"lifeos-export-{self.export.created_at:%Y%m%d}-{str(self.export.id)[:8]}.zip"


async def open_download(
    *, db: Database, crypto: CaptureCrypto, export_id: uuid.UUID, now: datetime | None = None
) -> Download:
    """Check the export is ``READY`` and readable, audit the download, and stream it.

    NOT_FOUND for a missing, pending, failed or expired export, and for one
    whose owner's data key is gone: all look the same from outside.
    """
    at = now or utcnow()
    async with db.transaction() as uow:
        record = await repo.get_export(uow, export_id, now=at)
        if record is None or record.status is not ExportStatus.READY:
            raise NotFound("Export not found", field="id")
        data_key = await crypto.keys.data_key_for(record.owner_id, create=False)
        if data_key is None:
            raise NotFound("Export not found", field="id")
        await audit.record(
            uow=uow,
            owner_id=record.owner_id,
            action="export.downloaded",
            target_type="Export",
            target_id=str(export_id),
        )
    return Download(record, _chunks(db, crypto, record, data_key))


async def _chunks(
    db: Database, crypto: CaptureCrypto, record: ExportRecord, data_key: bytes
) -> AsyncIterator[bytes]:
    total = record.chunk_count or 0
    for seq in range(total):
        # One short transaction per chunk: a slow client holds no connection.
        async with db.transaction(record.owner_id) as uow:
            sealed = await repo.get_chunk(uow, record.id, seq)
        if sealed is None:  # erased while downloading: stop (the length will not match)
            return
        yield crypto.cipher.decrypt(
            data_key, sealed, aad=chunk_aad(record.id, seq, last=seq == total - 1)
        )


async def drop_expired_exports(*, uow: UnitOfWork) -> int:
    """Everyone's expired exports lose their archives (the worker's sweep, on the
    privileged login); returns how many expired now."""
    return await repo.drop_expired(uow, None, now=utcnow())
