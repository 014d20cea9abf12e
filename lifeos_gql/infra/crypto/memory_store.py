"""In-memory data key store for unit tests and single-process experiments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lifeos_gql.infra.crypto.data_keys import WrappedKey
from lifeos_gql.infra.crypto.keystore import KeyReplacement


class InMemoryDataKeyStore:
    """Implements ``RotatableDataKeyStore`` with a dict; not shared across processes."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, WrappedKey] = {}

    async def get_wrapped(self, owner_id: uuid.UUID) -> WrappedKey | None:
        """Return the owner's wrapped key, if any."""
        return self.rows.get(owner_id)

    async def put_wrapped(self, owner_id: uuid.UUID, wrapped: WrappedKey) -> WrappedKey:
        """Insert if absent; return whichever key is stored."""
        return self.rows.setdefault(owner_id, wrapped)

    async def delete(self, owner_id: uuid.UUID) -> None:
        """Delete the owner's key if present."""
        self.rows.pop(owner_id, None)

    async def list_not_wrapped_by(
        self, master_key_id: str, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[tuple[uuid.UUID, WrappedKey]]:
        """Stale keys in owner-id order, after the cursor."""
        stale = [
            (owner_id, wrapped)
            for owner_id, wrapped in self.rows.items()
            if wrapped.master_key_id != master_key_id and (after is None or owner_id > after)
        ]
        stale.sort(key=lambda row: row[0])
        return stale[:limit]

    async def replace_wrapped(self, replacements: Sequence[KeyReplacement]) -> set[uuid.UUID]:
        """Compare-and-swap each key; return the owners updated."""
        updated: set[uuid.UUID] = set()
        for item in replacements:
            if self.rows.get(item.owner_id) == item.expected:
                self.rows[item.owner_id] = item.new
                updated.add(item.owner_id)
        return updated
