"""Choose the token verifier from settings, once, at start-up."""

from __future__ import annotations

import httpx

from lifeos_gql.config import Settings
from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.auth.dev_issuer import DevIssuer
from lifeos_gql.infra.auth.jwks import JwksCache
from lifeos_gql.infra.auth.tokens import TokenVerifier
from lifeos_gql.infra.auth.verifier import JwtVerifier, MultiIssuerVerifier


def _clerk_verifier(
    settings: Settings, http_client: httpx.AsyncClient | None
) -> JwtVerifier | None:
    if not settings.clerk_issuer:
        return None
    jwks_url = settings.effective_clerk_jwks_url
    if not jwks_url:
        raise ConfigError("CLERK_JWKS_URL could not be derived from CLERK_ISSUER")
    # Clerk's `iss` is its Frontend API origin, never with a trailing slash;
    # a copy-pasted "https://…/" must still match.
    issuer = settings.clerk_issuer.rstrip("/")
    return JwtVerifier(
        issuer,
        JwksCache(jwks_url, http_client),
        authorized_parties=settings.clerk_authorized_parties,
    )


def build_verifier(
    settings: Settings, *, http_client: httpx.AsyncClient | None = None
) -> TokenVerifier:
    """The verifier for this deployment.

    Production accepts Clerk tokens only (dev tokens are refused as a wrong
    issuer). Development accepts the local dev issuer's tokens, plus
    Clerk's when ``CLERK_ISSUER`` is set. ``http_client`` (borrowed, not
    closed) fetches Clerk's JWKS; without it each fetch opens a client.
    """
    clerk = _clerk_verifier(settings, http_client)
    if settings.is_prod:
        if clerk is None:
            raise ConfigError("LIFEOS_ENV=prod requires CLERK_ISSUER")
        return clerk
    dev = DevIssuer.load_or_create(settings.lifeos_data_dir).verifier()
    return MultiIssuerVerifier([dev] if clerk is None else [dev, clerk])
