"""The link token: 43 url-safe characters (256 random bits) in the share URL.

Only its SHA-256 is stored (nothing to brute-force at this entropy, and the
lookup goes through the unique index on ``token_hash``).
"""

from __future__ import annotations

import hashlib
import re
import secrets

_SECRET_BYTES = 32
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{43}")


def new_link_token() -> str:
    return secrets.token_urlsafe(_SECRET_BYTES)


def is_well_formed(token: str) -> bool:
    return _WELL_FORMED.fullmatch(token) is not None


def link_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "surrogateescape")).digest()
