"""What a verified bearer token tells us, and the interface that produces it.

Every failure is an :class:`~lifeos_gql.core.errors.Unauthenticated` whose
message is short and safe to show; ``extensions["reason"]`` says why in a
stable, machine-readable word (see :class:`FailureReason`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from lifeos_gql.core.errors import Unauthenticated


@dataclass(frozen=True)
class VerifiedToken:
    """The identity a token proves; ``claims`` is the full, read-only payload."""

    subject: str
    issuer: str
    email: str | None
    name: str | None
    is_dev: bool
    expires_at: datetime
    claims: Mapping[str, Any]


class TokenVerifier(Protocol):
    """Turns a bearer token into a :class:`VerifiedToken` or refuses it."""

    async def verify(self, token: str) -> VerifiedToken:
        """Verify ``token``; raise ``Unauthenticated`` (and nothing else) if it is bad."""
        ...


class FailureReason(StrEnum):
    """Why a token was refused; sent as ``extensions.reason``."""

    MALFORMED = "malformed"
    ENCRYPTED = "encrypted"
    UNSUPPORTED_ALG = "unsupported_alg"
    MISSING_KID = "missing_kid"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_PARTY = "wrong_party"
    MISSING_CLAIM = "missing_claim"
    INVALID_CLAIM = "invalid_claim"
    JWKS_UNAVAILABLE = "jwks_unavailable"


_MESSAGES = {
    FailureReason.EXPIRED: "token expired",
    FailureReason.JWKS_UNAVAILABLE: "token keys unavailable, try again later",
}


def auth_failure(reason: FailureReason) -> Unauthenticated:
    """The error to raise for ``reason``; the message never echoes token content."""
    return Unauthenticated(_MESSAGES.get(reason, "invalid token"), reason=reason.value)
