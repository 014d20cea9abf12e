"""Bearer-token authentication: RS256 JWTs verified through a JWKS.

Clerk in production, a local dev issuer in development; both take the same
verification path.
"""

from lifeos_gql.infra.auth.dev_issuer import DEV_ISSUER, DevIssuer
from lifeos_gql.infra.auth.factory import build_verifier
from lifeos_gql.infra.auth.jwks import JwksCache, JwksSource, JwksUnavailable, StaticJwks
from lifeos_gql.infra.auth.tokens import FailureReason, TokenVerifier, VerifiedToken
from lifeos_gql.infra.auth.verifier import JwtVerifier, MultiIssuerVerifier

__all__ = [
    "DEV_ISSUER",
    "DevIssuer",
    "FailureReason",
    "JwksCache",
    "JwksSource",
    "JwksUnavailable",
    "JwtVerifier",
    "MultiIssuerVerifier",
    "StaticJwks",
    "TokenVerifier",
    "VerifiedToken",
    "build_verifier",
]
