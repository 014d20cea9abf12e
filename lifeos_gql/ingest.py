"""Store captures and queue their analysis in one transaction; re-run analysis.

GraphQL, REST and the importers all capture through here, so an
acknowledged capture always has its analysis job committed with it (the
sweeper only has to catch what a crash in between could leave behind).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from lifeos_gql.config import Settings
from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import Forbidden, NotFound
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import (
    CaptureDraft,
    CaptureLimits,
    IngestOutcome,
    IngestStatus,
)
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.jobs import outbox
from lifeos_gql.jobs.outbox import JobsAtInsert, enqueue_analysis


class IngestRuntime(Protocol):
    """What capturing needs: the app's ``Runtime`` or a command's ``CoreRuntime``."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def capture_crypto(self) -> CaptureCrypto: ...

    @property
    def capture_limits(self) -> CaptureLimits: ...


async def capture_drafts(
    runtime: IngestRuntime,
    actor: Actor,
    drafts: Sequence[CaptureDraft],
    *,
    idempotency_key: str | None = None,
) -> list[IngestOutcome]:
    """``captures.ingest`` plus the analysis jobs of what it created, atomically."""
    jobs = JobsAtInsert(batch_size=runtime.settings.lifeos_analysis_batch_size)
    async with runtime.db.transaction(actor.require_user_id()) as uow:
        outcomes = await captures.ingest(
            uow=uow,
            actor=actor,
            crypto=runtime.capture_crypto,
            limits=runtime.capture_limits,
            drafts=drafts,
            idempotency_key=idempotency_key,
            jobs=jobs,
        )
        # New rows were inserted with their jobs; what is left is a replayed
        # Idempotency-Key response, whose captures get a job if theirs is gone.
        created = [
            o.capture.id
            for o in outcomes
            if o.status is IngestStatus.CREATED
            and o.capture is not None
            and o.capture.id not in jobs.assigned
        ]
        await enqueue_analysis(uow, created, batch_size=runtime.settings.lifeos_analysis_batch_size)
    return outcomes


async def request_analysis(
    runtime: IngestRuntime, actor: Actor, capture_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Analyse these captures again (owner or collaborator of each one's stream).

    A capture the actor cannot see is NOT_FOUND, exactly like a missing one;
    one they may only view is FORBIDDEN. Nothing is queued unless all pass.
    """
    wanted = list(dict.fromkeys(capture_ids))
    async with runtime.db.transaction(actor.require_user_id()) as uow:
        visible = await captures.captures_by_ids(
            uow=uow, actor=actor, crypto=runtime.capture_crypto, ids=wanted
        )
        missing = [cid for cid in wanted if cid not in visible]
        if missing:
            raise NotFound("Capture not found", field="captureIds")
        roles = await sharing.stream_roles(
            uow=uow, actor=actor, stream_ids=list({c.stream_id for c in visible.values()})
        )
        for record in visible.values():
            role = roles.get(record.stream_id)
            if not policy.can_request_analysis(role):
                raise Forbidden(
                    f"Your role ({role.value if role else 'none'}) may not request analysis",
                    field="captureIds",
                )
        queued = await outbox.request_analysis(
            uow, wanted, batch_size=runtime.settings.lifeos_analysis_batch_size
        )
        await audit.record(
            uow=uow,
            owner_id=actor.user_id,
            action="capture.request_analysis",
            target_type="Capture",
            details={"ids": [str(c) for c in queued]},
        )
    return queued
