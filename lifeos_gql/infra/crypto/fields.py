"""Field-level encryption of column values with a user's data key.

Ciphertext format, version 1::

    0x01 | nonce (12, random) | AES-256-GCM ciphertext | tag (16)

Associated data convention: every encrypted column value is bound to its
table, column and row by passing ``aad=field_aad("<table>.<column>", row_id)``,
e.g. ``field_aad("captures.content", capture.id)`` and
``field_aad("captures.raw", capture.id)``. Copying a ciphertext into another
row or another column then fails with :class:`DecryptionError` instead of
silently showing one capture's text in another. The version byte is always
authenticated as well. Keys are per owner, so moving a value to another
owner's row fails even without the row id.

Random 96-bit nonces are safe up to about 2**32 encryptions per data key,
far more than one person's captures.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lifeos_gql.infra.crypto.errors import DecryptionError

FORMAT_VERSION = 1
_HEADER = bytes([FORMAT_VERSION])
_NONCE_BYTES = 12
_MIN_BYTES = 1 + _NONCE_BYTES + 16


def field_aad(column: str, row_id: uuid.UUID) -> bytes:
    """Associated data binding a value to ``"<table>.<column>"`` of one row."""
    return column.encode("utf-8") + b":" + row_id.bytes


class FieldCipher:
    """Encrypts and decrypts column values; reuses one AESGCM object per key.

    Building an AESGCM object costs about three times the encryption of a
    small value, so the cipher keeps a bounded LRU of them keyed by data key.
    """

    def __init__(self, max_keys: int = 1024) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._max_keys = max_keys
        self._aeads: OrderedDict[bytes, AESGCM] = OrderedDict()
        # Sync resolvers may run in worker threads; the LRU bookkeeping is
        # several dict operations that must not interleave.
        self._lock = threading.Lock()

    def _aead(self, data_key: bytes) -> AESGCM:
        with self._lock:
            aead = self._aeads.get(data_key)
            if aead is not None:
                self._aeads.move_to_end(data_key)
                return aead
            aead = AESGCM(data_key)  # validates the key length
            self._aeads[data_key] = aead
            if len(self._aeads) > self._max_keys:
                self._aeads.popitem(last=False)
            return aead

    def forget(self, data_key: bytes) -> None:
        """Drop the cached AESGCM object for a key (after crypto-shredding)."""
        with self._lock:
            self._aeads.pop(data_key, None)

    def encrypt(self, data_key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
        """Encrypt ``plaintext``; ``aad`` must come from :func:`field_aad`."""
        nonce = os.urandom(_NONCE_BYTES)
        return _HEADER + nonce + self._aead(data_key).encrypt(nonce, plaintext, _HEADER + aad)

    def encryptor(self, data_key: bytes) -> Callable[[bytes, bytes], bytes]:
        """``encrypt`` bound to one key: the AEAD lookup is paid once per batch."""
        aead = self._aead(data_key)

        def encrypt(plaintext: bytes, aad: bytes) -> bytes:
            nonce = os.urandom(_NONCE_BYTES)
            return _HEADER + nonce + aead.encrypt(nonce, plaintext, _HEADER + aad)

        return encrypt

    def decrypt(self, data_key: bytes, ciphertext: bytes, *, aad: bytes) -> bytes:
        """Decrypt and authenticate; raise :class:`DecryptionError` on any failure."""
        if len(ciphertext) < _MIN_BYTES:
            raise DecryptionError("ciphertext is truncated")
        if ciphertext[:1] != _HEADER:
            raise DecryptionError(f"unsupported ciphertext version {ciphertext[0]}")
        nonce, sealed = ciphertext[1 : 1 + _NONCE_BYTES], ciphertext[1 + _NONCE_BYTES :]
        try:
            return self._aead(data_key).decrypt(nonce, sealed, _HEADER + aad)
        except InvalidTag:
            raise DecryptionError("ciphertext failed authentication") from None

    def encrypt_text(self, data_key: bytes, text: str, *, aad: bytes) -> bytes:
        """Encrypt a string as UTF-8."""
        return self.encrypt(data_key, text.encode("utf-8"), aad=aad)

    def decrypt_text(self, data_key: bytes, ciphertext: bytes, *, aad: bytes) -> str:
        """Decrypt a value written by :meth:`encrypt_text`."""
        return self.decrypt(data_key, ciphertext, aad=aad).decode("utf-8")

    def encrypt_json(self, data_key: bytes, value: Any, *, aad: bytes) -> bytes:
        """Serialise ``value`` with orjson and encrypt it."""
        return self.encrypt(data_key, orjson.dumps(value), aad=aad)

    def decrypt_json(self, data_key: bytes, ciphertext: bytes, *, aad: bytes) -> Any:
        """Decrypt and parse a value written by :meth:`encrypt_json`."""
        return orjson.loads(self.decrypt(data_key, ciphertext, aad=aad))
