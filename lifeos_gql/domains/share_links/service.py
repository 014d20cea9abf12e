"""Use cases of share links: create (token shown once), revoke, list, open.

A share link is a bearer URL granting read-only access to one capture,
insight or concept (and its visible lineage) for people without an
account. It sees what its creator can still read when it is opened, so a
creator who loses access to the stream silently disables the links they
made. Expired, revoked, unknown and malformed links are indistinguishable
to the caller: :func:`open_link` answers None for all of them.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, NotFound
from lifeos_gql.db.uow import Database, UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.share_links import repository, view
from lifeos_gql.domains.share_links.models import (
    MAX_EXPIRY,
    MIN_EXPIRY,
    SharedNode,
    SharedNodeType,
    ShareLink,
)
from lifeos_gql.domains.share_links.secret import is_well_formed, link_hash, new_link_token

MAX_LISTED = 100
# last_used_at (and the "use" audit row) at most once a minute per link: a
# busy link must not turn every view into writes.
TOUCH_EVERY = timedelta(minutes=1)


def _clean_expiry(expires_in: int) -> timedelta:
    seconds = int(MIN_EXPIRY.total_seconds()), int(MAX_EXPIRY.total_seconds())
    if not seconds[0] <= expires_in <= seconds[1]:
        raise BadInput(
            f"expiresIn must be between {seconds[0]} and {seconds[1]} seconds",
            field="expiresIn",
        )
    return timedelta(seconds=expires_in)


async def create_share_link(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    node_type: SharedNodeType,
    node_id: uuid.UUID,
    expires_in: int,
) -> tuple[ShareLink, str]:
    """Create a link to a node the actor can read; returns the row and the link token.

    A node the actor cannot see answers NOT_FOUND, exactly like a missing one.
    """
    user_id = actor.require_user_id()
    lifetime = _clean_expiry(expires_in)
    reader = view.reader_for(user_id)
    node = await view.shared_node(
        uow=uow, actor=reader, crypto=crypto, node_type=node_type, node_id=node_id
    )
    if node is None:
        raise NotFound("Node not found", field="nodeId")
    token = new_link_token()
    now = utcnow()
    link = await repository.insert(
        uow,
        owner_id=user_id,
        node_type=node_type,
        node_id=node_id,
        token_hash=link_hash(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    await audit.record(
        uow=uow,
        owner_id=user_id,
        action="share_link.create",
        target_type="ShareLink",
        target_id=str(link.id),
        details={
            "nodeType": node_type.value,
            "nodeId": str(node_id),
            "expiresAt": link.expires_at.isoformat(),
        },
    )
    return link, token


async def revoke_share_link(*, uow: UnitOfWork, actor: Actor, link_id: uuid.UUID) -> bool:
    """Revoke one of your links; True if this call revoked it, False if it already was.

    Someone else's link answers NOT_FOUND.
    """
    user_id = actor.require_user_id()
    link = await repository.get_owned(uow, link_id, user_id)
    if link is None:
        raise NotFound("Share link not found", field="id")
    revoked = await repository.revoke(uow, link_id, utcnow())
    if revoked:
        await audit.record(
            uow=uow,
            owner_id=user_id,
            action="share_link.revoke",
            target_type="ShareLink",
            target_id=str(link_id),
        )
    return revoked


async def list_share_links(*, uow: UnitOfWork, actor: Actor, first: int) -> list[ShareLink]:
    """The actor's own links, newest first (revoked and expired ones included)."""
    user_id = actor.require_user_id()
    return await repository.list_owned(uow, user_id, min(first, MAX_LISTED))


async def open_link(
    *,
    db: Database,
    system_db: Database,
    crypto: CaptureCrypto,
    token: str,
    now: datetime | None = None,
) -> tuple[ShareLink, SharedNode] | None:
    """The live link behind ``token`` and what it shows, or None (never a reason why).

    The link is found with ``system_db`` (nobody is signed in); its node is
    read in a transaction acting as the creator, so row-level security
    applies to them as it would in their own session. A successful view is
    recorded (``last_used_at`` and an audit row) at most once a minute.
    """
    if not is_well_formed(token):
        return None
    at = now or utcnow()
    digest = link_hash(token)
    async with system_db.transaction() as uow:
        found = await repository.get_by_hash(uow, digest)
    if found is None or not hmac.compare_digest(found[1], digest):
        return None
    link = found[0]
    if not link.is_live(at):
        return None
    async with db.transaction(link.owner_id) as uow:
        node = await view.shared_node(
            uow=uow,
            actor=view.reader_for(link.owner_id),
            crypto=crypto,
            node_type=link.node_type,
            node_id=link.node_id,
        )
    if node is None:
        return None
    if link.last_used_at is None or link.last_used_at <= at - TOUCH_EVERY:
        await _record_use(system_db, link, at)
    return link, node


async def _record_use(system_db: Database, link: ShareLink, at: datetime) -> None:
    # Its own transaction with no acting user: the viewer is anonymous.
    async with system_db.transaction() as uow:
        if await repository.touch(uow, link.id, at, TOUCH_EVERY):
            await audit.record(
                uow=uow,
                owner_id=link.owner_id,
                action="share_link.use",
                target_type="ShareLink",
                target_id=str(link.id),
                details={"nodeType": link.node_type.value, "nodeId": str(link.node_id)},
            )
