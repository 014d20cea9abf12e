"""RS256 JWT verification through a JWKS, one issuer per verifier."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jose import jws
from jose.backends.cryptography_backend import CryptographyRSAKey
from jose.exceptions import JOSEError

from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import Unauthenticated
from lifeos_gql.infra.auth.claims import check_claims
from lifeos_gql.infra.auth.jwks import JwksSource, JwksUnavailable
from lifeos_gql.infra.auth.jws_compact import UnverifiedJws, parse_compact
from lifeos_gql.infra.auth.tokens import FailureReason, VerifiedToken, auth_failure

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"
MAX_KID_CHARS = 256


def _check_header(header: dict[str, Any]) -> str:
    """Refuse every header we do not fully understand; return the ``kid``."""
    # Checked before any key is touched: `none`, HS* (CVE-2024-33663: an
    # HMAC keyed with the public key) and every other algorithm are refused
    # here, and again by `algorithms=[ALGORITHM]` below.
    if header.get("alg") != ALGORITHM:
        raise auth_failure(FailureReason.UNSUPPORTED_ALG)
    if "crit" in header or "jku" in header or "x5u" in header or "jwk" in header:
        # Critical extensions we cannot honour, and keys the token offers
        # for itself, are never acceptable.
        raise auth_failure(FailureReason.MALFORMED)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_CHARS:
        raise auth_failure(FailureReason.MISSING_KID)
    return kid


class JwtVerifier:
    """Verifies RS256 JWTs of one issuer against keys from a :class:`JwksSource`."""

    def __init__(
        self,
        issuer: str,
        jwks: JwksSource,
        authorized_parties: Sequence[str] = (),
        is_dev: bool = False,
        leeway_seconds: int = 30,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``authorized_parties`` are the allowed ``azp`` values (empty: not checked)."""
        if not issuer:
            raise ValueError("issuer must not be empty")
        self.issuer = issuer
        self.is_dev = is_dev
        self._jwks = jwks
        self._parties = tuple(authorized_parties)
        self._leeway = leeway_seconds
        self._clock = clock

    async def verify(self, token: str) -> VerifiedToken:
        """Verify ``token``; raise ``Unauthenticated`` with a reason for any bad token."""
        try:
            return await self._verify_parsed(token, parse_compact(token))
        except Unauthenticated as exc:
            logger.debug("token refused by %s: %s", self.issuer, exc.extensions.get("reason"))
            raise
        except JwksUnavailable:
            raise auth_failure(FailureReason.JWKS_UNAVAILABLE) from None
        except Exception:
            # Whatever a hostile token trips over inside a library is still
            # just a bad token to the caller.
            logger.warning("unexpected error verifying a token", exc_info=True)
            raise auth_failure(FailureReason.MALFORMED) from None

    async def _verify_parsed(self, token: str, parsed: UnverifiedJws) -> VerifiedToken:
        """Verify ``token`` whose unverified parts are ``parsed`` (may raise anything)."""
        kid = _check_header(parsed.header)
        # A token for another issuer is refused before any JWKS lookup, so it
        # can never trigger a refresh of our key set.
        if parsed.claims.get("iss") != self.issuer:
            raise auth_failure(FailureReason.WRONG_ISSUER)
        jwk = await self._jwks.get_key(kid)
        if jwk is None:
            raise auth_failure(FailureReason.UNKNOWN_KEY)
        try:
            # The cryptography backend, named explicitly rather than whatever
            # python-jose would pick from the installed packages.
            key = CryptographyRSAKey(jwk, ALGORITHM)
        except JOSEError:
            raise auth_failure(FailureReason.UNKNOWN_KEY) from None
        try:
            jws.verify(token, key, algorithms=[ALGORITHM])
        except JOSEError:
            raise auth_failure(FailureReason.BAD_SIGNATURE) from None
        # The payload jose verified is the very segment parsed above.
        return check_claims(
            parsed.claims,
            issuer=self.issuer,
            authorized_parties=self._parties,
            is_dev=self.is_dev,
            leeway_seconds=self._leeway,
            now=self._clock(),
        )


class MultiIssuerVerifier:
    """Routes each token to the verifier of its (unverified) ``iss``."""

    def __init__(self, verifiers: Sequence[JwtVerifier]) -> None:
        """One verifier per issuer; a duplicate issuer is a configuration error."""
        self._by_issuer: dict[str, JwtVerifier] = {}
        for verifier in verifiers:
            if verifier.issuer in self._by_issuer:
                raise ValueError(f"two verifiers for issuer {verifier.issuer!r}")
            self._by_issuer[verifier.issuer] = verifier

    @property
    def issuers(self) -> tuple[str, ...]:
        """The issuers accepted, in configuration order."""
        return tuple(self._by_issuer)

    async def verify(self, token: str) -> VerifiedToken:
        """Verify ``token`` with its issuer's verifier; unknown issuers are refused."""
        try:
            parsed = parse_compact(token)
            issuer = parsed.claims.get("iss")
        except Unauthenticated:
            raise
        except Exception:
            raise auth_failure(FailureReason.MALFORMED) from None
        verifier = self._by_issuer.get(issuer) if isinstance(issuer, str) else None
        if verifier is None:
            raise auth_failure(FailureReason.WRONG_ISSUER)
        return await verifier.verify(token)
