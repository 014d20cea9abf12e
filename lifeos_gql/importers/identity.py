"""Stable external ids.

Native ids (Message-ID, iCalendar UID, Slack channel + ts) are kept
readable behind a short prefix; everything else is a SHA-256 over the
item's own identifying fields, never over the whole file or a position in
it, so appending to a source does not change the ids of what was there.
"""

from __future__ import annotations

import hashlib

# Keeps ids comfortably inside any reasonable varchar/index limit.
MAX_NATIVE_ID_LENGTH = 200


def hashed_id(prefix: str, *parts: object) -> str:
    """``prefix:<32 hex>`` from the identifying ``parts`` (order matters)."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = ("" if part is None else str(part)).encode("utf-8", "surrogatepass")
        # Length-prefix each part so ("ab", "c") and ("a", "bc") differ.
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return f"{prefix}:{digest.hexdigest()[:32]}"


def native_id(prefix: str, value: str) -> str:
    """``prefix:value``, hashed instead when ``value`` is very long."""
    value = value.strip()
    if len(prefix) + 1 + len(value) <= MAX_NATIVE_ID_LENGTH:
        return f"{prefix}:{value}"
    return hashed_id(prefix, value)
