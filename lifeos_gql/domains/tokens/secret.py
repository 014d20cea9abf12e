"""Token wire formats: a kind prefix + 43 url-safe characters (256 random bits).

``lifeos_ingest_…`` is a per-stream ingest token, ``lifeos_pat_…`` a personal
access (API) token. The distinct prefixes let the authenticator route a
bearer credential without a lookup, and let secret scanners recognise
leaked tokens.

Only the SHA-256 of the whole token is stored: the secret has 256 bits of
entropy, so a fast hash is enough (nothing to brute-force) and lets the
lookup go through the unique index on ``token_hash``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

INGEST_TOKEN_PREFIX = "lifeos_ingest_"  # noqa: S105 (a public prefix, not a secret)
API_TOKEN_PREFIX = "lifeos_pat_"  # noqa: S105 (a public prefix, not a secret)
_SECRET_BYTES = 32
_BODY = r"[A-Za-z0-9_-]{43}"
_WELL_FORMED = re.compile(re.escape(INGEST_TOKEN_PREFIX) + _BODY)
_WELL_FORMED_API = re.compile(re.escape(API_TOKEN_PREFIX) + _BODY)
# Enough of the secret to tell tokens apart in a list, far too little to guess it.
_DISPLAY_CHARS = 6


def new_token() -> str:
    """A fresh ingest token, shown to its creator once."""
    return INGEST_TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def new_api_token() -> str:
    """A fresh API token, shown to its creator once."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def is_ingest_token(token: str) -> bool:
    """True when ``token`` claims to be an ingest token (by its prefix)."""
    return token.startswith(INGEST_TOKEN_PREFIX)


def is_api_token(token: str) -> bool:
    """True when ``token`` claims to be an API token (by its prefix)."""
    return token.startswith(API_TOKEN_PREFIX)


def is_well_formed(token: str) -> bool:
    return _WELL_FORMED.fullmatch(token) is not None


def is_well_formed_api_token(token: str) -> bool:
    return _WELL_FORMED_API.fullmatch(token) is not None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "surrogateescape")).digest()


def display_prefix(token: str) -> str:
    """The kind prefix and the first few secret characters, for lists."""
    kind = API_TOKEN_PREFIX if is_api_token(token) else INGEST_TOKEN_PREFIX
    return token[: len(kind) + _DISPLAY_CHARS]
