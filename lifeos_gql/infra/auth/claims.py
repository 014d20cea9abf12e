"""Registered-claim checks for a token whose signature is already verified.

python-jose's own claim checks are lenient (``exp`` optional, ``iss`` only
when passed, ``azp`` never, odd types can raise ``TypeError``), so the
rules are spelled out here, each with its own failure reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from lifeos_gql.infra.auth.tokens import FailureReason, VerifiedToken, auth_failure

MAX_SUBJECT_CHARS = 255


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """The NumericDate claim ``name`` if present; ``null`` counts as missing."""
    if name not in claims:
        return None
    value = claims[name]
    if value is None:
        raise auth_failure(FailureReason.MISSING_CLAIM)
    # bool is an int subclass; `"exp": true` is not a date.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise auth_failure(FailureReason.INVALID_CLAIM)
    try:
        number = float(value)  # a 400-digit int overflows here
    except OverflowError:
        raise auth_failure(FailureReason.INVALID_CLAIM) from None
    if not math.isfinite(number):
        raise auth_failure(FailureReason.INVALID_CLAIM)
    return number


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    authorized_parties: Sequence[str],
    is_dev: bool,
    leeway_seconds: float,
    now: datetime,
) -> VerifiedToken:
    """Check ``iss``, ``sub``, ``exp``, ``nbf``, ``iat`` and ``azp``; build the token."""
    if claims.get("iss") != issuer:
        raise auth_failure(FailureReason.WRONG_ISSUER)

    subject = claims.get("sub")
    if subject is None:
        raise auth_failure(FailureReason.MISSING_CLAIM)
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise auth_failure(FailureReason.INVALID_CLAIM)

    at = now.timestamp()
    exp = _numeric_date(claims, "exp")
    if exp is None:
        raise auth_failure(FailureReason.MISSING_CLAIM)
    if at >= exp + leeway_seconds:
        raise auth_failure(FailureReason.EXPIRED)
    nbf = _numeric_date(claims, "nbf")
    if nbf is not None and at + leeway_seconds < nbf:
        raise auth_failure(FailureReason.NOT_YET_VALID)
    iat = _numeric_date(claims, "iat")
    if iat is not None and at + leeway_seconds < iat:
        # Issued in the future: a clock far off or a forged lifetime.
        raise auth_failure(FailureReason.NOT_YET_VALID)

    # Clerk: `azp` names the origin the session token was made for; a token
    # without it (e.g. from a backend) is allowed, a foreign origin is not.
    azp = claims.get("azp")
    if (
        authorized_parties
        and "azp" in claims
        and (not isinstance(azp, str) or azp not in authorized_parties)
    ):
        raise auth_failure(FailureReason.WRONG_PARTY)

    try:
        expires_at = datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise auth_failure(FailureReason.INVALID_CLAIM) from None

    return VerifiedToken(
        subject=subject,
        issuer=issuer,
        email=_optional_str(claims, "email"),
        name=_optional_str(claims, "name"),
        is_dev=is_dev,
        expires_at=expires_at,
        claims=MappingProxyType(dict(claims)),
    )
