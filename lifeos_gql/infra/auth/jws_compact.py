"""Strict, unverified parsing of a compact JWS (``header.payload.signature``).

Used before any key is looked up, to refuse what we never accept (JWE,
other algorithms, odd JSON) and to route by issuer. Nothing read here is
trusted until the signature has been checked.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from lifeos_gql.infra.auth.tokens import FailureReason, auth_failure

# Clerk session tokens are 1-3 kB; anything far larger is not a token we issue
# and is refused before doing base64/JSON work on it.
MAX_TOKEN_CHARS = 16_384
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class UnverifiedJws:
    """The decoded parts of a compact JWS, not yet verified."""

    header: dict[str, Any]
    claims: dict[str, Any]


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded base64url; raise ``ValueError`` on anything else."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers reading the same token must agree on its meaning, so a
    # member given twice (last-wins in Python, first-wins elsewhere) is refused.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def decode_json_object(segment: str) -> dict[str, Any]:
    """Decode one base64url JSON-object segment strictly (no NaN, no duplicates)."""
    raw = b64url_decode(segment).decode("utf-8")
    value = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    if not isinstance(value, dict):
        raise ValueError("segment is not a JSON object")
    return value


def parse_compact(token: str) -> UnverifiedJws:
    """Split and decode ``token``; raise ``Unauthenticated`` if it is not a compact JWS."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise auth_failure(FailureReason.MALFORMED)
    parts = token.split(".")
    if len(parts) == 5:
        # Compact JWE; python-jose's JWE handling had CVE-2024-33664 and we
        # never issue or accept encrypted tokens.
        raise auth_failure(FailureReason.ENCRYPTED)
    # An empty signature is let through to the header check, so `alg: none`
    # is reported as such; RS256 verification refuses it anyway.
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise auth_failure(FailureReason.MALFORMED)
    try:
        header = decode_json_object(parts[0])
        claims = decode_json_object(parts[1])
        b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise auth_failure(FailureReason.MALFORMED) from None
    if "enc" in header:
        raise auth_failure(FailureReason.ENCRYPTED)
    return UnverifiedJws(header=header, claims=claims)
