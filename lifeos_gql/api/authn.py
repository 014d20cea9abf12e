"""Turn an ``Authorization`` header into an :class:`Actor`.

A valid JWT provisions its user on first sight (and refreshes email/name);
the subject-to-user mapping is cached per process so steady-state requests
cost no write.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

from lifeos_gql.core.actor import ALL_SCOPES, Actor
from lifeos_gql.core.errors import Forbidden, Unauthenticated
from lifeos_gql.db.uow import Database
from lifeos_gql.domains.audit.auth_failures import AuthFailureLog
from lifeos_gql.domains.sharing import grants as invites
from lifeos_gql.domains.tokens import api_tokens
from lifeos_gql.domains.tokens import service as ingest_tokens
from lifeos_gql.domains.tokens.secret import is_api_token, is_ingest_token
from lifeos_gql.domains.users import service as users
from lifeos_gql.infra.auth.tokens import TokenVerifier, VerifiedToken


class Authenticator:
    def __init__(self, verifier: TokenVerifier, db: Database, *, cache_size: int = 10_000) -> None:
        self._verifier = verifier
        self._db = db
        self._cache: OrderedDict[tuple[str, str | None, str | None], uuid.UUID] = OrderedDict()
        self._cache_size = cache_size
        # Failed authentications, aggregated into one audit row per minute.
        self.failures = AuthFailureLog(db)

    async def authenticate(
        self,
        authorization: str | None,
        *,
        allow_ingest_token: bool = False,
        client_ip: str | None = None,
    ) -> Actor:
        """Anonymous without a header; ``Unauthenticated`` for any bad credential.

        A per-stream ingest token is refused (``Forbidden``) unless the caller
        says the request is one it may authorise (``allow_ingest_token``).
        Every ``Unauthenticated`` is counted for the audit log (``failures``).
        """
        try:
            return await self._authenticate(authorization, allow_ingest_token=allow_ingest_token)
        except Unauthenticated as error:
            self.failures.note(str(error.extensions.get("reason", "invalid_credential")), client_ip)
            raise

    async def _authenticate(self, authorization: str | None, *, allow_ingest_token: bool) -> Actor:
        if authorization is None or not authorization.strip():
            return Actor.anonymous()
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <token>'", reason="bad_scheme")
        if is_ingest_token(token.strip()):
            return await self._ingest_actor(token.strip(), allowed=allow_ingest_token)
        if is_api_token(token.strip()):
            return await self._api_actor(token.strip())
        verified = await self._verifier.verify(token.strip())
        user_id = await self._user_id_for(verified)
        return Actor(
            user_id=user_id,
            scopes=ALL_SCOPES,
            via="dev-jwt" if verified.is_dev else "jwt",
            expires_at=verified.expires_at,
        )

    async def _ingest_actor(self, token: str, *, allowed: bool) -> Actor:
        # Not cached: a revoked token must stop working on its next request.
        async with self._db.transaction() as uow:
            row = await ingest_tokens.resolve_ingest_token(uow=uow, token=token)
        if not allowed:
            raise Forbidden(
                "Ingest tokens only authorise POST /v1/streams/{streamId}/captures",
                reason="ingest_token_scope",
            )
        return ingest_tokens.ingest_actor(row)

    async def _api_actor(self, token: str) -> Actor:
        # Not cached either: revocation must bite on the very next request.
        async with self._db.transaction() as uow:
            row = await api_tokens.resolve_api_token(uow=uow, token=token)
        return api_tokens.api_actor(row)

    async def _user_id_for(self, token: VerifiedToken) -> uuid.UUID:
        subject = f"{token.issuer}|{token.subject}"
        key = (subject, token.email, token.name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        async with self._db.transaction() as uow:
            user, _created = await users.provision_user(
                uow=uow, subject=subject, email=token.email, name=token.name
            )
            # Invites waiting for this address become grants in the same
            # transaction (first sign-in, or an email the provider changed).
            await invites.claim_invites(uow=uow, user_id=user.id, email=user.email)
        self._cache[key] = user.id
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return user.id

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop cached mappings of an erased user (GDPR erasure)."""
        for key in [k for k, v in self._cache.items() if v == user_id]:
            del self._cache[key]
