"""All SQL of the users domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from lifeos_gql.core.errors import Conflict
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.users.models import User

_UPSERT = text(
    """
    INSERT INTO users (external_subject, email, name)
    VALUES (:subject, :email, :name)
    ON CONFLICT (external_subject) DO UPDATE
        SET email = COALESCE(EXCLUDED.email, users.email),
            name = COALESCE(EXCLUDED.name, users.name),
            updated_at = CASE
                WHEN users.email IS DISTINCT FROM COALESCE(EXCLUDED.email, users.email)
                  OR users.name IS DISTINCT FROM COALESCE(EXCLUDED.name, users.name)
                THEN now() ELSE users.updated_at END
    RETURNING id, external_subject, email, name, created_at, updated_at,
              (xmax = 0) AS inserted
    """
)


async def upsert_by_subject(
    uow: UnitOfWork, *, subject: str, email: str | None, name: str | None
) -> tuple[User, bool]:
    """Insert or refresh the user for ``subject``; returns (user, created)."""
    try:
        async with uow.conn.begin_nested():
            row = (
                await uow.execute(_UPSERT, {"subject": subject, "email": email, "name": name})
            ).one()
    except IntegrityError as exc:
        raise Conflict("This email address belongs to another account", field="email") from exc
    mapping = dict(row._mapping)
    created = bool(mapping.pop("inserted"))
    return User(**mapping), created


async def get_many(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, User]:
    if not ids:
        return {}
    result = await uow.execute(select(User).where(col(User.id).in_(list(ids))))
    return {row.id: User(**row._mapping) for row in result}


async def get_by_email(uow: UnitOfWork, email: str) -> User | None:
    result = await uow.execute(
        select(User).where(text("lower(email) = lower(:email)")).params(email=email)
    )
    row = result.first()
    return User(**row._mapping) if row else None
