"""Where data keys live: the store interface, a process cache and KeyService.

The database-backed store implements :class:`DataKeyStore` (and
:class:`RotatableDataKeyStore` for ``rotate-master-key``); a row holds
``owner_id``, ``master_key_id`` and ``blob``. Deleting the row crypto-shreds
every ciphertext of that owner, wherever copies of it survive (backups,
replicas, exports of the encrypted table).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lifeos_gql.infra.crypto.data_keys import (
    WrappedKey,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from lifeos_gql.infra.crypto.fields import FieldCipher
from lifeos_gql.infra.crypto.master_keys import MasterKeyring


class DataKeyStore(Protocol):
    """Persistent storage of wrapped data keys, one per owner."""

    async def get_wrapped(self, owner_id: uuid.UUID) -> WrappedKey | None:
        """Return the owner's wrapped key, or None if never created or shredded."""
        ...

    async def put_wrapped(self, owner_id: uuid.UUID, wrapped: WrappedKey) -> WrappedKey:
        """Insert if absent and return the stored key: the caller's or a racer's.

        In SQL: ``INSERT ... ON CONFLICT (owner_id) DO NOTHING RETURNING ...``
        and, when nothing is returned, select the existing row.
        """
        ...

    async def delete(self, owner_id: uuid.UUID) -> None:
        """Delete the owner's wrapped key (crypto-shredding); no error if absent."""
        ...


@dataclass(frozen=True, slots=True)
class KeyReplacement:
    """Compare-and-swap of one wrapped key during rotation."""

    owner_id: uuid.UUID
    expected: WrappedKey
    new: WrappedKey


class RotatableDataKeyStore(DataKeyStore, Protocol):
    """A store that master-key rotation can scan and update in batches."""

    async def list_not_wrapped_by(
        self, master_key_id: str, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[tuple[uuid.UUID, WrappedKey]]:
        """Keys whose ``master_key_id`` differs, ordered by owner id, after ``after``.

        Python orders UUIDs like Postgres does (by their bytes), so keyset
        pagination on ``owner_id > after ORDER BY owner_id`` matches.
        """
        ...

    async def replace_wrapped(self, replacements: Sequence[KeyReplacement]) -> set[uuid.UUID]:
        """Apply each replacement only if the row still equals ``expected``.

        Returns the owner ids actually updated. The condition keeps rotation
        from resurrecting a key shredded meanwhile. In SQL, one statement:
        ``UPDATE data_keys d SET master_key_id = v.new_id, blob = v.new_blob
        FROM (VALUES ...) v(owner_id, old_id, old_blob, new_id, new_blob)
        WHERE d.owner_id = v.owner_id AND d.master_key_id = v.old_id
        AND d.blob = v.old_blob RETURNING d.owner_id``.
        """
        ...


class DataKeyCache:
    """Bounded LRU of plaintext data keys, with a time-to-live.

    The TTL bounds how long another process keeps using a key shredded
    elsewhere when no invalidation message reaches it.
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        ttl_seconds: float | None = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[uuid.UUID, tuple[bytes, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, owner_id: uuid.UUID) -> bytes | None:
        """Return the cached key, or None if absent or expired."""
        entry = self._entries.get(owner_id)
        if entry is None:
            return None
        key, expires_at = entry
        if self._clock() >= expires_at:
            del self._entries[owner_id]
            return None
        self._entries.move_to_end(owner_id)
        return key

    def put(self, owner_id: uuid.UUID, data_key: bytes) -> None:
        """Cache a key, evicting the least recently used one when full."""
        expires_at = float("inf") if self._ttl is None else self._clock() + self._ttl
        self._entries[owner_id] = (data_key, expires_at)
        self._entries.move_to_end(owner_id)
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, owner_id: uuid.UUID) -> bytes | None:
        """Remove and return the owner's key (used on erasure)."""
        entry = self._entries.pop(owner_id, None)
        return None if entry is None else entry[0]

    def clear(self) -> None:
        """Forget every key."""
        self._entries.clear()


class KeyService:
    """Gives out owners' plaintext data keys: ring + store + cache.

    Pass the same :class:`FieldCipher` the app encrypts with, so shredding
    also drops its cached AES object for the key.
    """

    def __init__(
        self,
        ring: MasterKeyring,
        store: DataKeyStore,
        *,
        cache: DataKeyCache | None = None,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.ring = ring
        self.store = store
        self.cache = cache if cache is not None else DataKeyCache()
        self._cipher = cipher
        # Bumped on every forget: a lookup that started before a shred must
        # not put the shredded key back into the cache when it finishes.
        self._forget_epoch = 0

    async def data_key_for(self, owner_id: uuid.UUID, *, create: bool) -> bytes | None:
        """Return the owner's data key.

        With ``create=False`` returns None when the owner has no key: nothing
        of theirs was ever encrypted, or it was shredded and is unreadable.
        With ``create=True`` makes and stores a key if absent (never None).
        Raises ``DecryptionError`` / ``UnknownMasterKeyError`` if the stored
        key cannot be unwrapped.
        """
        cached = self.cache.get(owner_id)
        if cached is not None:
            return cached
        epoch = self._forget_epoch
        wrapped = await self.store.get_wrapped(owner_id)
        if wrapped is None:
            if not create:
                return None
            data_key = new_data_key()
            mine = wrap_data_key(self.ring, data_key, owner_id=owner_id)
            wrapped = await self.store.put_wrapped(owner_id, mine)
            if wrapped != mine:  # another process created the key first
                data_key = unwrap_data_key(self.ring, wrapped, owner_id=owner_id)
        else:
            data_key = unwrap_data_key(self.ring, wrapped, owner_id=owner_id)
        if epoch == self._forget_epoch:
            self.cache.put(owner_id, data_key)
        return data_key

    async def shred(self, owner_id: uuid.UUID) -> None:
        """Crypto-shred: delete the owner's key everywhere this process knows.

        Other processes drop their cached copy within the cache TTL, or at
        once if the erasure event calls :meth:`forget` on them.
        """
        self.forget(owner_id)
        await self.store.delete(owner_id)

    def forget(self, owner_id: uuid.UUID) -> None:
        """Drop the owner's key from this process's caches only."""
        self._forget_epoch += 1
        data_key = self.cache.forget(owner_id)
        if data_key is not None and self._cipher is not None:
            self._cipher.forget(data_key)
