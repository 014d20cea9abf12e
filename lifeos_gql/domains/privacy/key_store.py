"""Wrapped data keys in Postgres: the ``DataKeyStore`` the crypto layer needs.

Each call runs in its own short transaction on purpose: a data key must
outlive the use case that first needed it, or a rolled-back capture would
leave a cached key with no stored counterpart.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text

from lifeos_gql.db.uow import Database
from lifeos_gql.infra.crypto.data_keys import WrappedKey
from lifeos_gql.infra.crypto.keystore import KeyReplacement

_GET = text("SELECT master_key_id, wrapped FROM data_keys WHERE owner_id = :owner")
_PUT = text(
    """
    INSERT INTO data_keys (owner_id, master_key_id, wrapped)
    VALUES (:owner, :mk, :blob)
    ON CONFLICT (owner_id) DO NOTHING
    RETURNING master_key_id, wrapped
    """
)
_DELETE = text("DELETE FROM data_keys WHERE owner_id = :owner")
_LIST = text(
    """
    SELECT owner_id, master_key_id, wrapped FROM data_keys
    WHERE master_key_id <> :mk AND (CAST(:after AS uuid) IS NULL OR owner_id > CAST(:after AS uuid))
    ORDER BY owner_id LIMIT :limit
    """
)
_REPLACE = text(
    """
    UPDATE data_keys SET master_key_id = :new_mk, wrapped = :new_blob, rotated_at = now()
    WHERE owner_id = :owner AND master_key_id = :old_mk AND wrapped = :old_blob
    RETURNING owner_id
    """
)


class PgDataKeyStore:
    """Implements ``RotatableDataKeyStore`` on the ``data_keys`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_wrapped(self, owner_id: uuid.UUID) -> WrappedKey | None:
        async with self._db.transaction() as uow:
            row = (await uow.execute(_GET, {"owner": owner_id})).first()
        return WrappedKey(row[0], bytes(row[1])) if row else None

    async def put_wrapped(self, owner_id: uuid.UUID, wrapped: WrappedKey) -> WrappedKey:
        async with self._db.transaction() as uow:
            params = {"owner": owner_id, "mk": wrapped.master_key_id, "blob": wrapped.blob}
            row = (await uow.execute(_PUT, params)).first()
            if row is None:
                row = (await uow.execute(_GET, {"owner": owner_id})).one()
        return WrappedKey(row[0], bytes(row[1]))

    async def delete(self, owner_id: uuid.UUID) -> None:
        async with self._db.transaction() as uow:
            await uow.execute(_DELETE, {"owner": owner_id})

    async def list_not_wrapped_by(
        self, master_key_id: str, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[tuple[uuid.UUID, WrappedKey]]:
        async with self._db.transaction() as uow:
            params = {"mk": master_key_id, "after": str(after) if after else None, "limit": limit}
            rows = (await uow.execute(_LIST, params)).all()
        return [(row[0], WrappedKey(row[1], bytes(row[2]))) for row in rows]

    async def replace_wrapped(self, replacements: Sequence[KeyReplacement]) -> set[uuid.UUID]:
        done: set[uuid.UUID] = set()
        async with self._db.transaction() as uow:
            for rep in replacements:
                params = {
                    "owner": rep.owner_id,
                    "new_mk": rep.new.master_key_id,
                    "new_blob": rep.new.blob,
                    "old_mk": rep.expected.master_key_id,
                    "old_blob": rep.expected.blob,
                }
                row = (await uow.execute(_REPLACE, params)).first()
                if row is not None:
                    done.add(row[0])
        return done
