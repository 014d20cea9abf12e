"""Audit use cases: append a row, read one's own trail, verify every chain.

Each owner has its own chain, ``user:<pseudonym>``; work with no owner goes
to the ``system`` chain. Rows never carry a user id: the owner, the actor
and any user id in ``target_id`` or ``details`` are written as that user's
pseudonym (see ``pseudonyms``), so erasing the user row (which cascades the
mapping away) leaves a trail that verifies but names nobody. ``audit_log``
refuses UPDATE, DELETE and TRUNCATE, and ``audit_heads`` pins each chain's
end, so ``verify_chains`` finds an altered, removed or reordered row.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, Forbidden
from lifeos_gql.db.uow import Database, UnitOfWork
from lifeos_gql.domains.audit import pseudonyms, repository
from lifeos_gql.domains.audit.chain import (
    ChainReport,
    ChainVerifier,
    canonical_details,
    row_hash,
)
from lifeos_gql.domains.audit.repository import NewRow, TrailRow

SYSTEM_CHAIN = "system"


def chain_of(pseudonym: str) -> str:
    """The chain id of the user with this pseudonym."""
    return f"user:{pseudonym}"


async def pseudonym_for(uow: UnitOfWork, user_id: uuid.UUID) -> str:
    """The user's audit pseudonym, made on first need (``LookupError``: no such user)."""
    found = await pseudonyms.pseudonyms_for(uow, [user_id])
    if user_id not in found:
        raise LookupError(f"no user {user_id} to give an audit pseudonym")
    return found[user_id]


async def pseudonyms_for(uow: UnitOfWork, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Batch form of :func:`pseudonym_for`; ids that are no user are left out."""
    return await pseudonyms.pseudonyms_for(uow, user_ids)


async def record(
    *,
    uow: UnitOfWork,
    owner_id: uuid.UUID | None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    object_ids: dict[str, list[str]] | None = None,
) -> None:
    """Append one row to ``owner_id``'s chain (``None``: the system chain) in this transaction.

    ``details`` hold ids, roles, counts and codes only. Any user id in
    ``target_id`` or ``details`` (as UUID text) is replaced by that user's
    pseudonym. Record before deleting a user row, never after: the owner
    must still exist to have a pseudonym (``LookupError`` otherwise).

    ``object_ids`` are more details (keys not in ``details``): lists of ids,
    as text, of objects that are no user (e.g. the 1,000 captures of a
    batch), stored as they are. Scanning and looking each of them up as a
    possible user would find nothing and cost more than the rest of the
    row; the row written is the same either way.
    """
    body = canonical_details(details or {})
    actor_id = uow.actor_id
    wanted = pseudonyms.uuids_in(body) | pseudonyms.uuids_in(target_id)
    wanted |= {i for i in (owner_id, actor_id) if i is not None}
    mapping = await pseudonyms.pseudonyms_for(uow, wanted)
    if owner_id is not None and owner_id not in mapping:
        raise LookupError(f"audit owner {owner_id} is no user (record before erasing)")
    chain = chain_of(mapping[owner_id]) if owner_id is not None else SYSTEM_CHAIN
    # An actor whose user row is already gone gets a throwaway stand-in that
    # links to nothing, rather than its raw id.
    actor = (mapping.get(actor_id) or pseudonyms.new_pseudonym()) if actor_id else None
    body = pseudonyms.replace_ids(body, mapping)
    if object_ids:
        body = {**body, **{key: list(ids) for key, ids in object_ids.items()}}
    target = pseudonyms.replace_ids(target_id, mapping) if target_id is not None else None

    last = await repository.lock_chain(uow, chain)
    seq, prev = (last[0] + 1, last[1]) if last else (1, None)
    at = utcnow()
    digest = row_hash(
        chain_id=chain,
        seq=seq,
        occurred_at=at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target,
        details=body,
        prev_hash=prev,
    )
    await repository.insert(
        uow,
        NewRow(chain, seq, at, actor, action, target_type, target, body, prev, digest),
    )


@dataclass(frozen=True, slots=True)
class TrailPage:
    """One page of a user's own trail, newest first."""

    rows: list[TrailRow]
    has_next: bool
    viewer_pseudonym: str | None

    def actor_is_viewer(self, row: TrailRow) -> bool:
        return self.viewer_pseudonym is not None and row.actor == self.viewer_pseudonym


def trail_cursor(seq: int) -> str:
    """Opaque keyset cursor of a trail row."""
    return base64.urlsafe_b64encode(f"audit:{seq}".encode()).rstrip(b"=").decode("ascii")


def _after_seq(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        kind, _, number = raw.partition(":")
        seq = int(number)
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise BadInput("Malformed cursor", field="after") from exc
    if kind != "audit" or seq < 1:
        raise BadInput("Malformed cursor", field="after")
    return seq


async def page_trail(
    *, uow: UnitOfWork, actor: Actor, owner_id: uuid.UUID, first: int, after: str | None
) -> TrailPage:
    """``owner_id``'s own chain, newest first; nobody reads another user's trail."""
    if actor.require_user_id() != owner_id or uow.actor_id != owner_id:
        raise Forbidden("Only your own audit log can be read", field="auditLog")
    before = _after_seq(after) if after else None
    mine = await pseudonyms.actor_pseudonym(uow)
    if mine is None or first == 0:
        return TrailPage([], False, mine)
    rows = await repository.page(uow, chain_of(mine), limit=first + 1, before=before)
    return TrailPage(rows[:first], len(rows) > first, mine)


async def verify_chains(db: Database, *, chain: str | None = None) -> AsyncIterator[ChainReport]:
    """Recompute every chain (or one) from the database, yielding a report per chain.

    One read-only REPEATABLE READ transaction sees rows and heads as of one
    instant, so appends running meanwhile cannot look like tampering.
    """
    async with db.engine.connect() as base:
        conn = await base.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with conn.begin():
            current: ChainVerifier | None = None
            async for row, head in repository.stream_rows(conn, chain):
                if current is None or current.chain_id != row.chain_id:
                    if current is not None:
                        yield current.finish()
                    current = ChainVerifier(row.chain_id, head)
                current.feed(row)
            if current is not None:
                yield current.finish()
            async for chain_id, head in repository.stream_empty_heads(conn, chain):
                yield ChainVerifier(chain_id, head).finish()
