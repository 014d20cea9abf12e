"""Use cases of ingest tokens: create (secret shown once), revoke, resolve.

An ingest token is a write-only credential for one stream, acting as the
user who created it. Their role is checked again at every use (by the REST
endpoint and by the capture service), so losing access to the stream
silently disables the tokens they made.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, Forbidden, NotFound, Unauthenticated
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.domains.tokens import repository
from lifeos_gql.domains.tokens.models import IngestToken
from lifeos_gql.domains.tokens.policy import is_interactive
from lifeos_gql.domains.tokens.secret import (
    display_prefix,
    is_well_formed,
    new_token,
    token_hash,
)
from lifeos_gql.domains.tokens.validity import live_token

MAX_NAME_CHARS = 100
INGEST_SCOPES = frozenset({Scope.WRITE})


def require_session(actor: Actor) -> uuid.UUID:
    """The acting user's id if they signed in interactively; tokens may not manage tokens."""
    user_id = actor.require_user_id()
    if not is_interactive(actor) or Scope.WRITE not in actor.scopes:
        raise Forbidden("This credential may not manage tokens", reason="session_required")
    return user_id


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadInput("Token name must not be empty", field="name")
    if len(cleaned) > MAX_NAME_CHARS:
        raise BadInput(f"Token name is longer than {MAX_NAME_CHARS} characters", field="name")
    return cleaned


def clean_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)  # naive times are taken as UTC
    if expires_at <= now:
        raise BadInput("expiresAt must be in the future", field="expiresAt")
    return expires_at


async def create_ingest_token(
    *,
    uow: UnitOfWork,
    actor: Actor,
    stream_id: uuid.UUID,
    name: str,
    expires_at: datetime | None = None,
) -> tuple[IngestToken, str]:
    """Create a token for ``stream_id``; returns the row and the secret (shown once).

    The owner or a collaborator of the stream may create one; it acts as them.
    """
    user_id = require_session(actor)
    await sharing.require_stream_role(
        uow=uow,
        actor=actor,
        stream_id=stream_id,
        allowed=policy.can_capture,
        action="create ingest tokens for this stream",
    )
    secret = new_token()
    token = await repository.insert(
        uow,
        owner_id=user_id,
        stream_id=stream_id,
        name=clean_name(name),
        token_hash=token_hash(secret),
        prefix=display_prefix(secret),
        expires_at=clean_expiry(expires_at, utcnow()),
    )
    await audit.record(
        uow=uow,
        owner_id=user_id,
        action="ingest_token.create",
        target_type="IngestToken",
        target_id=str(token.id),
        details={
            "streamId": str(stream_id),
            "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, secret


async def revoke_token(*, uow: UnitOfWork, actor: Actor, token_id: uuid.UUID) -> bool:
    """Revoke an ingest token; True if this call revoked it, False if it already was.

    Its creator or the stream's owner may revoke it; anyone else is told it
    does not exist.
    """
    user_id = require_session(actor)
    token = await repository.get(uow, token_id)
    if token is None:
        raise NotFound("Token not found", field="id")
    if token.owner_id != user_id:
        roles = await sharing.stream_roles(uow=uow, actor=actor, stream_ids=[token.stream_id])
        if not policy.can_manage(roles.get(token.stream_id)):
            raise NotFound("Token not found", field="id")
    revoked = await repository.revoke(uow, token_id, utcnow())
    if revoked:
        await audit.record(
            uow=uow,
            owner_id=user_id,
            action="ingest_token.revoke",
            target_type="IngestToken",
            target_id=str(token_id),
            details={"streamId": str(token.stream_id)},
        )
    return revoked


async def resolve_ingest_token(
    *, uow: UnitOfWork, token: str, now: datetime | None = None
) -> IngestToken:
    """The live token behind ``token``, or ``Unauthenticated``.

    Looked up by hash (so the lookup learns nothing from timing about the
    secret) and compared again in constant time; revoked or expired tokens
    are refused. Records the use at most once a minute.
    """
    if not is_well_formed(token):
        raise Unauthenticated("Malformed ingest token", reason="malformed_ingest_token")
    digest = token_hash(token)
    found = await repository.get_by_hash(uow, digest)
    return await live_token(uow, found, digest, kind="ingest", now=now)


def ingest_actor(token: IngestToken) -> Actor:
    """The actor a token acts as: its creator, write-only, bound to its stream."""
    return Actor(
        user_id=token.owner_id, scopes=INGEST_SCOPES, via="ingest-token", stream_id=token.stream_id
    )


async def live_token_ids(*, uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``ids`` (API or ingest tokens) still live: not revoked, expired or gone.

    For holders of long-lived connections made with a token (WebSockets).
    """
    return await repository.live_ids(uow, ids, utcnow())
