"""Errors raised by the crypto layer.

None of these is a user-facing ``DomainError``: a failed decryption means
tampering, corruption or a missing master key, which the API must mask as an
internal error and operators must see in logs.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every crypto-layer failure."""


class DecryptionError(CryptoError):
    """Ciphertext failed authentication: tampered, truncated, moved or wrong key."""


class UnknownMasterKeyError(CryptoError):
    """A wrapped data key names a master key id that the keyring does not hold.

    Usually a previous master key was dropped from LIFEOS_PREVIOUS_MASTER_KEYS
    before ``rotate-master-key`` finished re-wrapping every data key.
    """

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"master key {key_id!r} is not configured; add it to LIFEOS_PREVIOUS_MASTER_KEYS"
        )
        self.key_id = key_id
