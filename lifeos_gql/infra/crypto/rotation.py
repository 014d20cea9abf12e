"""Master-key rotation: re-wrap every stored data key under the current key.

Runs beside live servers (``lifeos-gql rotate-master-key``): data keys
themselves never change, so ciphertexts and the servers' caches stay valid;
only their wrapping moves from a previous master key to the current one.
Each batch is one compare-and-swap write, so a key shredded or re-wrapped
concurrently is skipped rather than overwritten, and an interrupted run can
simply be started again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from lifeos_gql.infra.crypto.data_keys import rewrap
from lifeos_gql.infra.crypto.errors import CryptoError
from lifeos_gql.infra.crypto.keystore import KeyReplacement, RotatableDataKeyStore
from lifeos_gql.infra.crypto.master_keys import MasterKeyring


@dataclass(slots=True)
class RotationReport:
    """What a rotation run did; ``failed`` maps owner id to the reason."""

    current_key_id: str
    scanned: int = 0
    rewrapped: int = 0
    skipped: int = 0
    failed: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when nothing failed: the previous keys may then be retired
        (after a second run confirms nothing stale is left)."""
        return not self.failed


async def rotate_all(
    ring: MasterKeyring,
    store: RotatableDataKeyStore,
    *,
    batch_size: int = 500,
    on_batch: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Re-wrap every data key not wrapped by ``ring.current``, in batches.

    Keys that cannot be unwrapped (unknown master key id, corrupt blob) are
    recorded in ``failed`` and left untouched; the scan moves past them.
    ``skipped`` counts keys changed by someone else between read and write.
    ``on_batch`` is called with the running report after every batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = RotationReport(current_key_id=ring.current.key_id)
    after: uuid.UUID | None = None
    while True:
        batch = await store.list_not_wrapped_by(ring.current.key_id, after=after, limit=batch_size)
        if not batch:
            return report
        replacements: list[KeyReplacement] = []
        for owner_id, wrapped in batch:
            try:
                new = rewrap(ring, wrapped, owner_id)
            except CryptoError as exc:
                report.failed[owner_id] = str(exc)
                continue
            if new is not None:
                replacements.append(KeyReplacement(owner_id, wrapped, new))
        updated = await store.replace_wrapped(replacements) if replacements else set()
        report.scanned += len(batch)
        report.rewrapped += len(updated)
        report.skipped += len(replacements) - len(updated)
        after = batch[-1][0]
        if on_batch is not None:
            on_batch(report)
