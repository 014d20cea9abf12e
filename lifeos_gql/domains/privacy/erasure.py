"""GDPR erasure: remove a user from every table, index and cache; keep a receipt.

:func:`erase_user` is the database part, one transaction (pass a unit of
work of ``runtime.system_db``: it crosses other users' streams):

1. lock the user row, so nothing new can refer to the user meanwhile;
2. delete their data key first: crypto-shredding makes every ciphertext of
   theirs unreadable, including copies in backups taken before today;
3. delete their contributions to other people's streams (decision recorded
   in the README's Privacy section: captures they wrote there go, with the
   insights, edges, events, vectors and orphaned concepts derived from
   them), grants they received, invitations to their email, queued jobs
   naming their data;
4. delete the rows of every table with an ``owner_id`` and every other row
   whose foreign key to ``users`` cascades (found from the catalog, so
   tables added later are covered without changing this code);
5. append ``account.erased`` to their audit chain (counts and the receipt's
   digest, under their pseudonym), then delete the user row, which takes
   the pseudonym mapping with it: the trail still verifies but names nobody.

:func:`purge_outside_db` then drops what lives outside Postgres: vectors in
the configured index (their own namespace, and their contributions in
others'), Redis keys naming them, and this process's cached data key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

import orjson

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, Forbidden, NotFound
from lifeos_gql.db.uow import Database, UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.privacy import erasure_repository as repo
from lifeos_gql.domains.privacy.erasure_repository import Contributions
from lifeos_gql.domains.privacy.export import TASK_NAME as EXPORT_TASK
from lifeos_gql.domains.privacy.models import ErasureReceipt, TableCount
from lifeos_gql.infra.crypto.keystore import KeyService
from lifeos_gql.infra.vectors.base import VectorIndex

log = logging.getLogger(__name__)

#: The analysis task (``lifeos_gql.jobs.outbox.TASK_NAME``); named here so the
#: domain does not import the jobs package.
ANALYSE_TASK: Final = "lifeos.analyse_captures"
CONFIRM_PREFIX: Final = "ERASE "
#: Credentials that may erase an account: an interactive sign-in, not an API token.
#: How long the outside purge waits for analysis runs on the erased captures.
RUNNING_JOBS_WAIT_SECONDS: Final = 30.0
_SESSION_KINDS: Final = frozenset({"jwt", "dev-jwt"})
# Removed last, after the audit row that still needs them.
_LAST: Final = frozenset({"users", "audit_pseudonyms"})


@dataclass(frozen=True, slots=True)
class Erasure:
    """The database part done: the receipt, and what to purge outside Postgres."""

    user_id: uuid.UUID
    receipt: ErasureReceipt
    contributions: Contributions
    #: Analysis jobs that were running on the user's captures at erasure time.
    running_jobs: list[int] = field(default_factory=list)


def expected_confirmation(email: str | None, user_id: uuid.UUID) -> str:
    """``ERASE <your email>`` (or ``ERASE <your user id>`` for an account with no email)."""
    return CONFIRM_PREFIX + (email or str(user_id))


def _confirmed(confirm: str, email: str | None, user_id: uuid.UUID) -> bool:
    given = confirm.strip()
    if not given.startswith(CONFIRM_PREFIX):
        return False
    wanted = expected_confirmation(email, user_id)[len(CONFIRM_PREFIX) :]
    return given[len(CONFIRM_PREFIX) :].strip().lower() == wanted.lower()


def canonical_receipt(pseudonym: str, erased_at: datetime, counts: list[TableCount]) -> bytes:
    """The bytes a receipt's digest covers: sorted counts, pseudonym, time (µs, UTC)."""
    return orjson.dumps(
        {
            "counts": [[c.table, c.rows] for c in sorted(counts, key=lambda c: c.table)],
            "erasedAt": erased_at.isoformat(timespec="microseconds"),
            "pseudonym": pseudonym,
        },
        option=orjson.OPT_SORT_KEYS,
    )


async def erase_my_account(*, uow: UnitOfWork, actor: Actor, confirm: str) -> Erasure:
    """``eraseMyAccount``: the signed-in user erases themself after typing the confirmation.

    BAD_USER_INPUT (and nothing erased) unless ``confirm`` is
    ``ERASE <your email>``; FORBIDDEN for API tokens.
    """
    user_id = actor.require_user_id()
    if actor.via not in _SESSION_KINDS or actor.token_id is not None:
        raise Forbidden("Erasing your account needs a signed-in session, not a token")
    row = await repo.lock_user(uow, user_id)
    if row is None:
        raise NotFound("Account not found")
    if not _confirmed(confirm, row.email, user_id):
        raise BadInput(
            "To erase your account, confirm with exactly 'ERASE <your email>'", field="confirm"
        )
    return await _erase_locked(uow, user_id, row.email)


async def erase_user(*, uow: UnitOfWork, user_id: uuid.UUID) -> Erasure | None:
    """Erase a user on the identity provider's word (Clerk ``user.deleted``); None if unknown."""
    row = await repo.lock_user(uow, user_id)
    if row is None:
        return None
    return await _erase_locked(uow, user_id, row.email)


async def user_for_subject(*, uow: UnitOfWork, subject: str) -> uuid.UUID | None:
    """The user id of an external identity (``issuer|subject``), if provisioned."""
    return await repo.user_id_by_subject(uow, subject)


async def _erase_locked(uow: UnitOfWork, user_id: uuid.UUID, email: str | None) -> Erasure:
    pseudonym = await audit.pseudonym_for(uow, user_id)
    before = await repo.deleted_so_far(uow)
    await repo.delete_where(uow, "data_keys", "owner_id", user_id)  # crypto-shredding first
    contributions = await repo.delete_contributions(uow, user_id)
    await repo.delete_received_grants(uow, user_id, email)
    running = await repo.running_analysis_jobs(
        uow, user_id, contributions.capture_ids, analyse_task=ANALYSE_TASK
    )
    await repo.delete_queued_jobs(
        uow,
        user_id,
        contributions.capture_ids,
        analyse_task=ANALYSE_TASK,
        export_task=EXPORT_TASK,
    )
    for table in await repo.owner_tables_children_first(uow):
        await repo.delete_where(uow, table, "owner_id", user_id)
    fks = await repo.user_foreign_keys(uow)
    for fk in fks:
        if fk.removes_rows and fk.column != "owner_id" and fk.table not in _LAST:
            await repo.delete_where(uow, fk.table, fk.column, user_id)
    after = await repo.deleted_so_far(uow)
    counts = {t: n - before.get(t, 0) for t, n in after.items() if n > before.get(t, 0)}
    counts["users"] = counts.get("users", 0) + 1
    counts["audit_pseudonyms"] = counts.get("audit_pseudonyms", 0) + 1
    erased_at = utcnow()
    table_counts = sorted((TableCount(t, n) for t, n in counts.items()), key=lambda c: c.table)
    digest = hashlib.sha256(canonical_receipt(pseudonym, erased_at, table_counts)).hexdigest()
    await audit.record(
        uow=uow,
        owner_id=user_id,
        action="account.erased",
        target_type="User",
        target_id=str(user_id),
        details={"counts": counts, "digest": digest},
    )
    await repo.delete_where(uow, "users", "id", user_id)
    _check_nothing_else_cascaded(after, await repo.deleted_so_far(uow))
    receipt = ErasureReceipt(pseudonym, erased_at, tuple(table_counts), digest)
    return Erasure(user_id, receipt, contributions, running)


def _check_nothing_else_cascaded(counted: dict[str, int], final: dict[str, int]) -> None:
    extra = {t: n - counted.get(t, 0) for t, n in final.items() if n > counted.get(t, 0)}
    extra.pop("users", None)
    extra.pop("audit_pseudonyms", None)
    if extra:
        # A table reached the user by a path this module does not know (a
        # multi-column key?): the rows are gone, but the receipt missed them.
        log.warning("erasure: rows removed after counting: %s", sorted(extra))


async def purge_outside_db(
    erasure: Erasure,
    *,
    keys: KeyService,
    vectors: VectorIndex | None,
    redis: Any | None,
    forget: Callable[[uuid.UUID], None] | None = None,
    db: Database | None = None,
) -> ErasureReceipt:
    """After commit: vectors, Redis keys and process caches. Returns the final receipt.

    A vector index that cannot be reached does not undo the erasure (the
    database is the source of truth and no longer leads to those vectors);
    the receipt then says ``vector_index_purged=False`` and the failure is
    logged for an operator to re-run. An analysis run that was under way on
    the user's captures may still upsert their vectors (it decrypted them
    before the key was shredded): with ``db``, the index is purged again
    once those runs end (waiting at most ``RUNNING_JOBS_WAIT_SECONDS``).
    """
    user_id = erasure.user_id
    keys.forget(user_id)
    if forget is not None:
        forget(user_id)
    purged = True
    if vectors is not None:
        purged = await _purge_vectors(erasure, vectors)
        if erasure.running_jobs and db is not None:
            await _wait_for_jobs(db, erasure.running_jobs)
            purged = await _purge_vectors(erasure, vectors) and purged
    if redis is not None:
        await _purge_redis(redis, user_id)
    return replace(erasure.receipt, vector_index_purged=purged)


async def _purge_vectors(erasure: Erasure, vectors: VectorIndex) -> bool:
    try:
        await vectors.delete_owner(erasure.user_id)
        for owner_id, ids in erasure.contributions.vector_ids.items():
            await vectors.delete(owner_id=owner_id, ids=ids)
    except Exception:
        log.exception("erasure: vector index purge failed for %s", erasure.receipt.pseudonym)
        return False
    return True


async def _wait_for_jobs(db: Database, job_ids: list[int]) -> None:
    deadline = time.monotonic() + RUNNING_JOBS_WAIT_SECONDS
    while time.monotonic() < deadline:
        async with db.transaction() as uow:
            if await repo.count_running(uow, job_ids) == 0:
                return
        await asyncio.sleep(0.25)
    log.warning("erasure: analysis jobs %s still running; vectors purged anyway", job_ids)


async def _purge_redis(redis: Any, user_id: uuid.UUID) -> None:
    """Delete every Redis key naming the user (rate limits, caches keyed by user id)."""
    try:
        batch: list[Any] = []
        async for key in redis.scan_iter(match=f"*{user_id}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                await redis.delete(*batch)
                batch = []
        if batch:
            await redis.delete(*batch)
    except Exception:
        log.exception("erasure: Redis purge failed")
