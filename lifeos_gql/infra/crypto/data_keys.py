"""Per-user data keys, wrapped (encrypted) by a master key.

Wrapped blob format, version 1 (61 bytes)::

    0x01 | nonce (12) | AES-256-GCM(data key) (32) | tag (16)

The associated data binds the blob to its owner and to the master key id it
is stored with, so a wrapped key copied to another user's row, or relabelled
with another key id, fails to unwrap.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from lifeos_gql.infra.crypto.errors import DecryptionError
from lifeos_gql.infra.crypto.master_keys import KEY_BYTES, MasterKeyring

WRAP_VERSION = 1
_HEADER = bytes([WRAP_VERSION])
_NONCE_BYTES = 12
_BLOB_BYTES = 1 + _NONCE_BYTES + KEY_BYTES + 16
_AAD_PREFIX = b"lifeos/data-key/v1:"


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted under the master key named by ``master_key_id``."""

    master_key_id: str
    blob: bytes

    def __repr__(self) -> str:
        return f"WrappedKey(master_key_id={self.master_key_id!r}, blob=<{len(self.blob)} bytes>)"


def new_data_key() -> bytes:
    """Return a fresh random 32-byte AES-256 data key."""
    return os.urandom(KEY_BYTES)


def _aad(owner_id: uuid.UUID, master_key_id: str) -> bytes:
    return _AAD_PREFIX + owner_id.bytes + b":" + master_key_id.encode("ascii")


def wrap_data_key(ring: MasterKeyring, data_key: bytes, *, owner_id: uuid.UUID) -> WrappedKey:
    """Encrypt ``data_key`` for ``owner_id`` under the ring's current master key."""
    if len(data_key) != KEY_BYTES:
        raise ValueError(f"a data key must be {KEY_BYTES} bytes, got {len(data_key)}")
    master = ring.current
    nonce = os.urandom(_NONCE_BYTES)
    sealed = master.aead.encrypt(nonce, data_key, _HEADER + _aad(owner_id, master.key_id))
    return WrappedKey(master.key_id, _HEADER + nonce + sealed)


def unwrap_data_key(ring: MasterKeyring, wrapped: WrappedKey, *, owner_id: uuid.UUID) -> bytes:
    """Decrypt a wrapped data key belonging to ``owner_id``.

    Raises :class:`UnknownMasterKeyError` when the ring lacks the named master
    key and :class:`DecryptionError` when the blob fails authentication.
    """
    master = ring.get(wrapped.master_key_id)
    blob = wrapped.blob
    if len(blob) != _BLOB_BYTES or blob[:1] != _HEADER:
        raise DecryptionError("wrapped data key has an unknown format")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return master.aead.decrypt(nonce, sealed, _HEADER + _aad(owner_id, master.key_id))
    except InvalidTag:
        raise DecryptionError("wrapped data key failed authentication") from None


def rewrap(ring: MasterKeyring, wrapped: WrappedKey, owner_id: uuid.UUID) -> WrappedKey | None:
    """Re-wrap a data key under the current master key, for rotation.

    Returns ``None`` (nothing to do) when it is already wrapped by the current
    key; otherwise unwraps with whichever key it names and wraps anew.
    """
    if wrapped.master_key_id == ring.current.key_id:
        return None
    data_key = unwrap_data_key(ring, wrapped, owner_id=owner_id)
    return wrap_data_key(ring, data_key, owner_id=owner_id)
