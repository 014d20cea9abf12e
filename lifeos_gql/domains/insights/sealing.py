"""Encrypt insight text with the owner's data key, bound to the insight's row.

Same cipher and associated-data convention as captures
(``field_aad("insights.text", insight_id)``). The fingerprint is an HMAC
keyed from the owner's data key, so equal insights of one capture are
recognised without the database learning anything guessable.
"""

from __future__ import annotations

import hmac
import uuid

import orjson

from lifeos_gql.infra.crypto.fields import FieldCipher, field_aad

_COLUMN = "insights.text"
_FINGERPRINT_LABEL = b"lifeos/insights/fingerprint/v1"


def seal_text(cipher: FieldCipher, data_key: bytes, insight_id: uuid.UUID, text: str) -> bytes:
    """Ciphertext of an insight's text for the ``text_enc`` column."""
    return cipher.encrypt_text(data_key, text, aad=field_aad(_COLUMN, insight_id))


def unseal_text(cipher: FieldCipher, data_key: bytes, insight_id: uuid.UUID, value: bytes) -> str:
    """Plaintext of ``text_enc``; raises ``DecryptionError`` if moved or tampered with."""
    return cipher.decrypt_text(data_key, bytes(value), aad=field_aad(_COLUMN, insight_id))


def fingerprint(data_key: bytes, capture_id: uuid.UUID, kind: str, text: str) -> bytes:
    """Keyed identity of an insight of one capture (whitespace-insensitive)."""
    key = hmac.digest(data_key, _FINGERPRINT_LABEL, "sha256")
    body = orjson.dumps([str(capture_id), kind, " ".join(text.split())])
    return hmac.digest(key, body, "sha256")
