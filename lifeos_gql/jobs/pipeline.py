"""Analysing captures: claim, decrypt, analyse, embed, index, link, store.

One call is one run. Its steps, per owner among the claimed captures:

1. claim (``RUNNING`` under a fresh run id; see :mod:`.outbox`);
2. decrypt the captures (captures service, acting as their owner);
3. analyse them in one analyser call (the analyser batches internally)
   and, at the same time, embed title and content;
4. upsert the vectors (idempotent: same ids);
5. find related captures (nearest neighbours in the owner's index);
6. a. resolve every capture's concepts in one short transaction;
   b. one transaction for the batch: mark ``DONE`` the captures *this run
   still holds* and store their graph (``apply_analyses``). Both commit or
   neither, so a capture is ``DONE`` exactly once with its graph written
   once. A batch that fails is stored again capture by capture, so a bad
   capture fails alone.

A transient failure (rate limit, timeout, lost connection) gives the
captures back as ``PENDING`` and asks the job to retry, unless this is the
last attempt, which marks them ``FAILED`` with the error's code. A
permanent failure marks them ``FAILED`` at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from lifeos_gql.core.actor import Actor
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.graph.building import CaptureAnalysis
from lifeos_gql.domains.graph.concepts import ResolvedConcept
from lifeos_gql.domains.search import indexing as search_indexing
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.infra.embeddings.base import EmbeddingError, TransientEmbeddingError
from lifeos_gql.infra.llm.types import AnalysisItem, AnalysisResult, TransientAnalysisError
from lifeos_gql.infra.vectors.base import TransientVectorError, VectorIndexError, VectorRecord
from lifeos_gql.jobs import outbox
from lifeos_gql.jobs.retry import is_retryable
from lifeos_gql.jobs.services import AnalysisServices

log = logging.getLogger(__name__)

#: Nearest captures considered as associative links, and the similarity floor.
RELATED_TOP_K = 8
RELATED_MIN_SCORE = 0.35

INTERNAL_ERROR = "ANALYSIS_INTERNAL_ERROR"
MISSING_RESULT = "ANALYSIS_MISSING_RESULT"
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"


@dataclass
class AnalysisOutcome:
    """What one run did with each capture id it was given."""

    done: list[uuid.UUID] = field(default_factory=list)
    skipped: list[uuid.UUID] = field(default_factory=list)
    failed: dict[uuid.UUID, str] = field(default_factory=dict)
    #: Released as PENDING for the job's next attempt.
    retry: list[uuid.UUID] = field(default_factory=list)
    retry_after: float | None = None
    #: Not claimable (another run holds them, already finished, or deleted).
    ignored: list[uuid.UUID] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """Counts per outcome, for the job's result and logs."""
        return {
            "done": len(self.done),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "retry": len(self.retry),
            "ignored": len(self.ignored),
        }


class _Transient(Exception):
    def __init__(self, code: str, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


class _Permanent(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Run:
    services: AnalysisServices
    run_id: uuid.UUID
    final_attempt: bool
    outcome: AnalysisOutcome


async def analyse(
    services: AnalysisServices,
    capture_ids: Sequence[uuid.UUID],
    *,
    job_id: int | None = None,
    final_attempt: bool = True,
) -> AnalysisOutcome:
    """Analyse the claimable captures among ``capture_ids`` (see the module docstring).

    ``job_id`` is the procrastinate job running this (it may re-claim what it
    claimed in an earlier attempt); ``final_attempt`` turns transient
    failures into ``FAILED`` instead of a retry.
    """
    settings = services.settings
    run = _Run(services, uuid.uuid4(), final_attempt, AnalysisOutcome())
    async with services.db.transaction() as uow:
        claimed, exhausted = await outbox.claim(
            uow,
            list(dict.fromkeys(capture_ids)),
            run_id=run.run_id,
            job_id=job_id,
            max_attempts=settings.lifeos_analysis_max_attempts,
        )
    run.outcome.failed.update(dict.fromkeys(exhausted, outbox.ATTEMPTS_EXHAUSTED))
    held = {c.id for c in claimed} | set(exhausted)
    run.outcome.ignored = [i for i in dict.fromkeys(capture_ids) if i not in held]
    by_owner: dict[uuid.UUID, list[uuid.UUID]] = {}
    for c in claimed:
        by_owner.setdefault(c.owner_id, []).append(c.id)
    for owner_id, ids in by_owner.items():
        await _analyse_owner(run, owner_id, ids)
    log.info("analysis run %s (job %s): %s", run.run_id, job_id, run.outcome.summary())
    return run.outcome


async def _analyse_owner(run: _Run, owner_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    try:
        prepared = await _prepare(run, owner_id, ids)
    except _Transient as exc:
        await _retry_or_fail(run, owner_id, dict.fromkeys(ids, exc.code), exc.retry_after)
        return
    except _Permanent as exc:
        await _end(run, owner_id, ids, "FAILED", exc.code)
        return
    except Exception as exc:
        if is_retryable(exc):
            await _retry_or_fail(run, owner_id, dict.fromkeys(ids, DATABASE_UNAVAILABLE), None)
            return
        log.exception("analysis of %d captures failed", len(ids))
        await _end(run, owner_id, ids, "FAILED", INTERNAL_ERROR)
        return
    records, results, related = prepared
    await _end(run, owner_id, [i for i in ids if i not in records], "SKIPPED", None)
    transient: dict[uuid.UUID, str] = {}
    ready: list[_Ready] = []
    for capture_id, record in records.items():
        result = results.get(capture_id)
        if result is None:
            await _end(run, owner_id, [capture_id], "FAILED", MISSING_RESULT)
        elif result.error is not None and result.error.transient:
            transient[capture_id] = result.error.code
        elif result.error is not None:
            await _end(run, owner_id, [capture_id], "FAILED", result.error.code)
        else:
            ready.append(_Ready(record, result, related.get(capture_id, [])))
    resolved = await _resolve(run, owner_id, ready)
    if resolved is None:  # the database is unreachable: the whole batch retries
        transient.update(dict.fromkeys((r.record.id for r in ready), DATABASE_UNAVAILABLE))
    else:
        transient.update(dict.fromkeys(await _store(run, owner_id, resolved), DATABASE_UNAVAILABLE))
    if transient:
        await _retry_or_fail(run, owner_id, transient, None)


Prepared = tuple[
    dict[uuid.UUID, CaptureRecord],
    dict[uuid.UUID, AnalysisResult],
    dict[uuid.UUID, list[tuple[uuid.UUID, float]]],
]


async def _prepare(run: _Run, owner_id: uuid.UUID, ids: list[uuid.UUID]) -> Prepared:
    """Steps 2–5: decrypt, analyse, embed, index, find related. Readable captures only."""
    services = run.services
    owner = Actor(user_id=owner_id, via="job")
    async with services.db.transaction(owner_id) as uow:
        found = await captures.captures_by_ids(
            uow=uow, actor=owner, crypto=services.crypto, ids=ids
        )
        stream_rows = await streams.streams_by_ids(
            uow=uow, actor=owner, ids=list({r.stream_id for r in found.values()})
        )
    # Unreadable (erased data key) or empty captures have nothing to analyse.
    records = {i: found[i] for i in ids if i in found and _text(found[i])}
    if not records:
        return {}, {}, {}
    items = [
        AnalysisItem(
            ref=str(r.id),
            title=r.title,
            content=r.content or r.title or "",
            occurred_at=r.occurred_at,
            source_kind=stream_rows[r.stream_id].source if r.stream_id in stream_rows else "other",
        )
        for r in records.values()
    ]
    try:
        analysed, vectors = await _analyse_and_embed(
            services, items, [_text(r) for r in records.values()]
        )
    except TransientAnalysisError as exc:
        raise _Transient("LLM_UNAVAILABLE", exc.retry_after) from exc
    except TransientEmbeddingError as exc:
        raise _Transient("EMBEDDING_UNAVAILABLE") from exc
    except EmbeddingError as exc:
        raise _Permanent("EMBEDDING_FAILED") from exc
    results = {uuid.UUID(r.ref): r for r in analysed}
    try:
        await services.vectors.upsert(
            [
                VectorRecord(
                    id=str(r.id),
                    values=vector,
                    owner_id=owner_id,
                    node_type="capture",
                    stream_ids=[str(r.stream_id)],
                    occurred_at=r.occurred_at,
                )
                for r, vector in zip(records.values(), vectors, strict=True)
            ]
        )
        related = {
            r.id: await _related(run, owner_id, r.id, vector)
            for r, vector in zip(records.values(), vectors, strict=True)
        }
    except TransientVectorError as exc:
        raise _Transient("VECTOR_INDEX_UNAVAILABLE") from exc
    except VectorIndexError as exc:
        raise _Permanent("VECTOR_INDEX_FAILED") from exc
    return records, results, related


async def _analyse_and_embed(
    services: AnalysisServices, items: list[AnalysisItem], texts: list[str]
) -> tuple[list[AnalysisResult], list[list[float]]]:
    """Both calls at once: with an API behind them, each mostly waits on the network.

    Both finish either way; the analyser's error, if any, is the one raised.
    """
    analysed, vectors = await asyncio.gather(
        services.analyser.analyse(items), services.embedder.embed(texts), return_exceptions=True
    )
    if isinstance(analysed, BaseException):
        raise analysed
    if isinstance(vectors, BaseException):
        raise vectors
    return analysed, vectors


async def _related(
    run: _Run, owner_id: uuid.UUID, capture_id: uuid.UUID, vector: Sequence[float]
) -> list[tuple[uuid.UUID, float]]:
    matches = await run.services.vectors.query(
        owner_id=owner_id,
        vector=vector,
        top_k=RELATED_TOP_K,
        node_types=["capture"],
        exclude_ids=[str(capture_id)],
    )
    return [(uuid.UUID(m.id), m.score) for m in matches if m.score >= RELATED_MIN_SCORE]


@dataclass(frozen=True, slots=True)
class _Ready:
    """A capture analysed successfully, waiting for step 6."""

    record: CaptureRecord
    result: AnalysisResult
    related: list[tuple[uuid.UUID, float]]
    concepts: list[ResolvedConcept] | None = None


async def _resolve(run: _Run, owner_id: uuid.UUID, ready: list[_Ready]) -> list[_Ready] | None:
    """Step 6a: the concept nodes of every capture of the batch, in one short transaction.

    Name locks (needed only where a node may be created or renamed) are
    taken once for the whole batch, not once per capture. If this fails for
    another reason than the database, the captures go on unresolved and the
    graph write resolves them itself. None: the database is unreachable.
    """
    if not ready:
        return ready
    try:
        async with run.services.db.transaction(owner_id) as uow:
            found = await graph.resolve_batch_concepts(
                uow=uow, owner_id=owner_id, results=[r.result for r in ready]
            )
    except Exception as exc:
        if is_retryable(exc):
            return None
        log.warning("resolving a batch's concepts failed; resolving them later", exc_info=True)
        return ready
    return [dataclasses.replace(r, concepts=c) for r, c in zip(ready, found, strict=True)]


async def _store(run: _Run, owner_id: uuid.UUID, ready: list[_Ready]) -> list[uuid.UUID]:
    """Step 6b for the batch in one transaction; returns the ids to retry (transient).

    If the batch fails for another reason than the database, each capture
    is tried alone, so one bad capture fails alone (``FAILED``).
    """
    if not ready:
        return []
    try:
        await _write(run, owner_id, ready)
        return []
    except Exception as exc:
        if is_retryable(exc):
            return [r.record.id for r in ready]
        if len(ready) == 1:
            log.exception("storing the analysis of capture %s failed", ready[0].record.id)
            await _end(run, owner_id, [ready[0].record.id], "FAILED", INTERNAL_ERROR)
            return []
        log.warning(
            "storing %d analyses failed; storing them one by one", len(ready), exc_info=True
        )
    retry: list[uuid.UUID] = []
    for r in ready:
        # Resolved again in the write's own transaction, in case resolution was the fault.
        retry += await _store(run, owner_id, [dataclasses.replace(r, concepts=None)])
    return retry


async def _write(run: _Run, owner_id: uuid.UUID, ready: list[_Ready]) -> None:
    services = run.services
    async with services.db.transaction(owner_id) as uow:
        # Fence first: only the run holding the claim writes the graph.
        held = set(
            await outbox.finish(uow, [r.record.id for r in ready], run_id=run.run_id, status="DONE")
        )
        mine = [r for r in ready if r.record.id in held]
        if mine:
            written = await graph.apply_analyses(
                uow=uow,
                owner_id=owner_id,
                analyses=[CaptureAnalysis(r.record, r.result, r.related, r.concepts) for r in mine],
                crypto=services.crypto,
            )
            for r in mine:
                # Search (issue 5): full-text vectors need the plaintext, held only here.
                await search_indexing.index_analysed_capture(
                    uow=uow, owner_id=owner_id, capture=r.record, crypto=services.crypto
                )
            # Last: the counts shared with other jobs and the event log stay
            # locked until commit. Subscriptions hear captureAnalyzed committed
            # with the graph it announces.
            ended = [
                graph.analysis_ended_event(owner_id, r.record.id, r.record.stream_id, "DONE", None)
                for r in mine
            ]
            await graph.settle_analyses(uow=uow, written=written, also=ended)
    run.outcome.done.extend(r.record.id for r in mine)


async def _end(
    run: _Run, owner_id: uuid.UUID, ids: list[uuid.UUID], status: str, error: str | None
) -> None:
    if not ids:
        return
    async with run.services.db.transaction(owner_id) as uow:
        ended = await outbox.finish(uow, ids, run_id=run.run_id, status=status, error=error)
    if status == "SKIPPED":
        run.outcome.skipped.extend(ended)
    elif status == "FAILED":
        run.outcome.failed.update(dict.fromkeys(ended, error or INTERNAL_ERROR))


async def _retry_or_fail(
    run: _Run, owner_id: uuid.UUID, codes: dict[uuid.UUID, str], retry_after: float | None
) -> None:
    """Release for the job's next attempt; on the last attempt, fail with each code."""
    if run.final_attempt:
        for code in set(codes.values()):
            await _end(run, owner_id, [i for i, c in codes.items() if c == code], "FAILED", code)
        return
    async with run.services.db.transaction(owner_id) as uow:
        released = await outbox.release(uow, list(codes), run_id=run.run_id)
    run.outcome.retry.extend(released)
    if retry_after is not None:
        run.outcome.retry_after = max(run.outcome.retry_after or 0.0, retry_after)


def _text(record: CaptureRecord) -> str:
    return "\n\n".join(part for part in (record.title, record.content) if part).strip()
