"""Encryption at rest: per-user AES-256-GCM data keys wrapped by master keys.

See :mod:`.master_keys` for rotation, :mod:`.fields` for the ciphertext
format and the associated-data convention, :mod:`.keystore` for the store
interface and :class:`KeyService`.
"""

from lifeos_gql.infra.crypto.data_keys import (
    WrappedKey,
    new_data_key,
    rewrap,
    unwrap_data_key,
    wrap_data_key,
)
from lifeos_gql.infra.crypto.errors import CryptoError, DecryptionError, UnknownMasterKeyError
from lifeos_gql.infra.crypto.fields import FieldCipher, field_aad
from lifeos_gql.infra.crypto.keystore import (
    DataKeyCache,
    DataKeyStore,
    KeyReplacement,
    KeyService,
    RotatableDataKeyStore,
)
from lifeos_gql.infra.crypto.master_keys import MasterKey, MasterKeyring, master_key_id
from lifeos_gql.infra.crypto.memory_store import InMemoryDataKeyStore
from lifeos_gql.infra.crypto.rotation import RotationReport, rotate_all

__all__ = [
    "CryptoError",
    "DataKeyCache",
    "DataKeyStore",
    "DecryptionError",
    "FieldCipher",
    "InMemoryDataKeyStore",
    "KeyReplacement",
    "KeyService",
    "MasterKey",
    "MasterKeyring",
    "RotatableDataKeyStore",
    "RotationReport",
    "UnknownMasterKeyError",
    "WrappedKey",
    "field_aad",
    "master_key_id",
    "new_data_key",
    "rewrap",
    "rotate_all",
    "unwrap_data_key",
    "wrap_data_key",
]
