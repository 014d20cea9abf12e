"""Encrypt and decrypt capture fields; the only place captures touch keys.

Ciphertexts are bound to their row and column (associated data), so they
cannot be swapped between captures. The content hash is an HMAC keyed from
the owner's data key: equal content dedups within a stream, but the hash
reveals nothing guessable to someone holding only the database.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import orjson

from lifeos_gql.infra.crypto.fields import FieldCipher, field_aad

_HASH_LABEL = b"lifeos/captures/content-hash/v1"


def content_hash_key(data_key: bytes) -> bytes:
    """The owner's dedup key, derived once per owner and batch."""
    return hmac.digest(data_key, _HASH_LABEL, "sha256")


def content_hash(hash_key: bytes, identity: list[Any]) -> bytes:
    return hmac.digest(hash_key, orjson.dumps(identity), "sha256")


class RowSealer:
    """Seals the columns of new capture rows under one owner's data key.

    Same format as :func:`seal` (``field_aad`` of ``captures.<column>``),
    with the key's AEAD and the column prefixes looked up once per batch.
    """

    _PREFIXES = {c: f"captures.{c}:".encode() for c in ("title", "content", "data")}

    def __init__(self, cipher: FieldCipher, data_key: bytes) -> None:
        self._encrypt = cipher.encryptor(data_key)

    def seal(self, capture_id: uuid.UUID, column: str, value: bytes | None) -> bytes | None:
        if value is None:
            return None
        return self._encrypt(value, self._PREFIXES[column] + capture_id.bytes)


def unseal(
    cipher: FieldCipher, data_key: bytes, capture_id: uuid.UUID, column: str, value: bytes | None
) -> bytes | None:
    if value is None:
        return None
    return cipher.decrypt(data_key, bytes(value), aad=field_aad(f"captures.{column}", capture_id))
