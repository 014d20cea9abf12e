"""Run an importer into a stream: batches of captures, resumable, with progress.

Each batch of items is one ``lifeos_gql.ingest.capture_drafts`` call in its own
transaction, so an interrupted import keeps every batch committed before the
interrupt. Items carry external ids that depend only on the source, so
running the same import again stores nothing twice: already stored items
come back as duplicates and the import resumes where it stopped.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import text

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import BadInput, Forbidden, NotFound
from lifeos_gql.db.uow import Database, UnitOfWork
from lifeos_gql.domains.captures.models import (
    CaptureDraft,
    IngestOutcome,
    IngestStatus,
)
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import Stream
from lifeos_gql.domains.users import repository as users
from lifeos_gql.importers.base import ImportedItem, ImportStats, SkippedRecord
from lifeos_gql.importers.registry import get_importer
from lifeos_gql.ingest import IngestRuntime, capture_drafts

DEFAULT_BATCH_SIZE = 500
# Enough examples to diagnose a bad file without flooding the terminal.
MAX_SAMPLES = 20


# An import captures exactly like the API does.
ImportRuntime = IngestRuntime


@dataclass(slots=True)
class ImportReport:
    """What an import did.

    ``skipped`` counts records the importer could not read (never sent);
    ``invalid`` counts items the capture service rejected. ``reasons``
    counts both, by reason; ``samples`` shows where a few of them were.
    """

    created: int = 0
    duplicates: int = 0
    invalid: int = 0
    skipped: int = 0
    batches: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    samples: list[SkippedRecord] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Items the importer produced (created, duplicate or invalid)."""
        return self.created + self.duplicates + self.invalid

    def add_sample(self, where: str, reason: str) -> None:
        """Keep an example of a skipped or rejected record (the first few only)."""
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(SkippedRecord(where=where, reason=reason))


class ImportProgress(Protocol):
    """Receives progress; the CLI draws a bar with it, libraries may ignore it."""

    def start(self, total: int | None) -> None:
        """The import begins; ``total`` work units (None if unknown)."""

    def advance(self, units: int) -> None:
        """``units`` more work units were read."""

    def batch_done(self, report: ImportReport) -> None:
        """A batch committed; ``report`` holds the running totals."""


_USER_IDS = text("SELECT id FROM users ORDER BY created_at LIMIT 2")


async def resolve_actor(db: Database, email: str | None) -> Actor:
    """The acting user: by email, else the only user of this database.

    ``NotFound`` for an unknown email or an empty database; ``BadInput``
    when several users exist and no email chose one.
    """
    async with db.transaction() as uow:
        if email is not None:
            user = await users.get_by_email(uow, email)
            if user is None:
                raise NotFound(f"No user with email {email}", field="as")
            return Actor(user_id=user.id, via="cli")
        # No service lists users (the API never needs to); this is the one
        # operator-side question, answered with two ids at most.
        ids = [row[0] for row in await uow.execute(_USER_IDS)]
    if not ids:
        raise NotFound("No users yet: sign in to the API once to create your account", field="as")
    if len(ids) > 1:
        raise BadInput("This database has several users: choose one with --as EMAIL", field="as")
    return Actor(user_id=ids[0], via="cli")


async def writable_stream(uow: UnitOfWork, actor: Actor, stream_id: uuid.UUID) -> Stream:
    """The stream if the actor may capture into it (``NotFound``/``Forbidden`` otherwise)."""
    await sharing.require_stream_role(
        uow=uow, actor=actor, stream_id=stream_id, allowed=policy.can_capture, action="capture"
    )
    found = await streams.streams_by_ids(uow=uow, actor=actor, ids=[stream_id])
    return found[stream_id]


def to_draft(stream_id: uuid.UUID, item: ImportedItem) -> CaptureDraft:
    """An imported item as a capture draft of ``stream_id``."""
    return CaptureDraft(
        stream_id=stream_id,
        occurred_at=item.occurred_at,
        title=item.title,
        # Importers use "" for "no body" (a calendar event with a title only).
        content=item.content or None,
        data=item.data or None,
        external_id=item.external_id,
    )


async def import_file(
    *,
    runtime: ImportRuntime,
    actor: Actor,
    stream_id: uuid.UUID,
    fmt: str,
    path: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Import ``path`` (format ``fmt``) into the stream; returns the report.

    Raises ``BadInput`` (unknown format, missing file, bad batch size),
    ``NotFound`` (stream unknown or invisible) or ``Forbidden`` (viewer
    role) before anything is read. Safe to re-run: stored items come back
    as duplicates.
    """
    importer = get_importer(fmt)
    limits = runtime.capture_limits
    if not 1 <= batch_size <= limits.max_batch_items:
        raise BadInput(
            f"batch size must be between 1 and {limits.max_batch_items}", field="batch-size"
        )
    total = importer.total_units(path)  # also checks that the path exists
    async with runtime.db.transaction(actor.user_id) as uow:
        await writable_stream(uow, actor, stream_id)

    report = ImportReport()
    stats = ImportStats()
    if progress is not None:
        progress.start(total)
    batch: list[CaptureDraft] = []
    in_batch: set[str] = set()
    items = importer.iter_items(
        path, on_progress=progress.advance if progress is not None else None, stats=stats
    )
    for item in items:
        # The service would report these too; dropping them here keeps
        # a re-exported, repeated record from costing a row in the request.
        if item.external_id in in_batch:
            report.duplicates += 1
            continue
        in_batch.add(item.external_id)
        batch.append(to_draft(stream_id, item))
        if len(batch) >= batch_size:
            report.skipped = stats.skipped
            await _send(runtime, actor, batch, report, progress)
            batch, in_batch = [], set()
    if batch:
        await _send(runtime, actor, batch, report, progress)
    report.skipped = stats.skipped
    report.reasons.update(stats.reasons)
    for sample in stats.samples:
        report.add_sample(sample.where, sample.reason)
    if progress is not None:
        progress.batch_done(report)
    return report


async def _send(
    runtime: ImportRuntime,
    actor: Actor,
    batch: Sequence[CaptureDraft],
    report: ImportReport,
    progress: ImportProgress | None,
) -> None:
    outcomes = await capture_drafts(runtime, actor, batch)
    for draft, outcome in zip(batch, outcomes, strict=True):
        _count(report, draft, outcome)
    report.batches += 1
    if progress is not None:
        progress.batch_done(report)


def _count(report: ImportReport, draft: CaptureDraft, outcome: IngestOutcome) -> None:
    if outcome.status is IngestStatus.CREATED:
        report.created += 1
    elif outcome.status is IngestStatus.DUPLICATE:
        report.duplicates += 1
    else:
        report.invalid += 1
        if outcome.code in ("NOT_FOUND", "FORBIDDEN"):
            # Access changed mid-import (stream deleted, role lowered).
            raise (NotFound if outcome.code == "NOT_FOUND" else Forbidden)(
                outcome.message or "Stream not writable", field="streamId"
            )
        reason = f"rejected: {outcome.code} ({outcome.field})"
        report.reasons[reason] += 1
        report.add_sample(draft.external_id or "", f"{reason}: {outcome.message}")
