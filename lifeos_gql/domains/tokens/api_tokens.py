"""Use cases of API (personal access) tokens: create, revoke, list, resolve.

An API token lets a third-party tool act as its creator within its scopes:
READ runs queries, WRITE runs mutations and posts captures, SUBSCRIBE opens
subscriptions. The secret is shown once; only its SHA-256 is stored. Every
use looks the token up again (no cache), so revocation takes effect on the
very next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, NotFound, Unauthenticated
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.tokens import api_repository, repository
from lifeos_gql.domains.tokens.models import ApiToken
from lifeos_gql.domains.tokens.secret import (
    display_prefix,
    is_well_formed_api_token,
    new_api_token,
    token_hash,
)
from lifeos_gql.domains.tokens.service import (
    clean_expiry,
    clean_name,
    require_session,
)
from lifeos_gql.domains.tokens.validity import live_token

MAX_LISTED = 100


def _clean_scopes(scopes: Iterable[Scope]) -> frozenset[Scope]:
    cleaned = frozenset(scopes)
    if not cleaned:
        raise BadInput("Give the token at least one scope", field="scopes")
    return cleaned


async def create_api_token(
    *,
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    scopes: Iterable[Scope],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token acting as the signed-in user; returns the row and the secret (shown once).

    Only an interactive session may do this: a token never mints tokens.
    """
    user_id = require_session(actor)
    secret = new_api_token()
    token = await api_repository.insert(
        uow,
        owner_id=user_id,
        name=clean_name(name),
        token_hash=token_hash(secret),
        prefix=display_prefix(secret),
        scopes=_clean_scopes(scopes),
        expires_at=clean_expiry(expires_at, utcnow()),
    )
    await audit.record(
        uow=uow,
        owner_id=user_id,
        action="api_token.create",
        target_type="ApiToken",
        target_id=str(token.id),
        details={
            "scopes": sorted(s.value for s in token.scopes),
            "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, secret


async def revoke_api_token(*, uow: UnitOfWork, actor: Actor, token_id: uuid.UUID) -> bool:
    """Revoke one of your API tokens; True if this call revoked it, False if it already was.

    Someone else's token (or an ingest token's id) answers NOT_FOUND.
    """
    user_id = require_session(actor)
    token = await api_repository.get_owned(uow, token_id, user_id)
    if token is None:
        raise NotFound("Token not found", field="id")
    revoked = await repository.revoke(uow, token_id, utcnow())
    if revoked:
        await audit.record(
            uow=uow,
            owner_id=user_id,
            action="api_token.revoke",
            target_type="ApiToken",
            target_id=str(token_id),
        )
    return revoked


async def list_api_tokens(*, uow: UnitOfWork, actor: Actor, first: int) -> list[ApiToken]:
    """The actor's own API tokens, newest first (revoked and expired ones included)."""
    user_id = actor.require_user_id()
    return await api_repository.list_owned(uow, user_id, min(first, MAX_LISTED))


async def resolve_api_token(
    *, uow: UnitOfWork, token: str, now: datetime | None = None
) -> ApiToken:
    """The live token behind ``token``, or ``Unauthenticated``.

    Looked up by hash and compared again in constant time; revoked or
    expired tokens are refused. Records the use at most once a minute.
    """
    if not is_well_formed_api_token(token):
        raise Unauthenticated("Malformed API token", reason="malformed_api_token")
    digest = token_hash(token)
    found = await api_repository.get_by_hash(uow, digest)
    return await live_token(uow, found, digest, kind="api", now=now)


def api_actor(token: ApiToken) -> Actor:
    """The actor a token acts as: its creator, narrowed to the token's scopes."""
    return Actor(
        user_id=token.owner_id,
        scopes=token.scopes,
        via="api-token",
        expires_at=token.expires_at,
        token_id=token.id,
    )
