"""The ingest token wire format: ``lifeos_ingest_`` + 43 url-safe characters.

Only the SHA-256 of the whole token is stored: the secret has 256 bits of
entropy, so a fast hash is enough (nothing to brute-force) and lets the
lookup go through the unique index on ``token_hash``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

INGEST_TOKEN_PREFIX = "lifeos_ingest_"  # noqa: S105 (a public prefix, not a secret)
_SECRET_BYTES = 32
_WELL_FORMED = re.compile(re.escape(INGEST_TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")
# Enough of the secret to tell tokens apart in a list, far too little to guess it.
_DISPLAY_CHARS = 6


def new_token() -> str:
    """A fresh token, shown to its creator once."""
    return INGEST_TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def is_ingest_token(token: str) -> bool:
    """True when ``token`` claims to be an ingest token (by its prefix)."""
    return token.startswith(INGEST_TOKEN_PREFIX)


def is_well_formed(token: str) -> bool:
    return _WELL_FORMED.fullmatch(token) is not None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "surrogateescape")).digest()


def display_prefix(token: str) -> str:
    return token[: len(INGEST_TOKEN_PREFIX) + _DISPLAY_CHARS]
