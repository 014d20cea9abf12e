"""Use cases of the users domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.users import repository
from lifeos_gql.domains.users.models import User


async def provision_user(
    *, uow: UnitOfWork, subject: str, email: str | None, name: str | None
) -> tuple[User, bool]:
    """Return the user for a verified identity, creating it on first sight.

    Returns ``(user, created)``; refreshes email and name when the identity
    provider reports new values.
    """
    return await repository.upsert_by_subject(uow, subject=subject, email=email, name=name)


async def users_by_ids(*, uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, User]:
    """Batch getter for loaders: users visible by id (users are not secret to themselves)."""
    return await repository.get_many(uow, ids)


async def user_by_email(*, uow: UnitOfWork, email: str) -> User | None:
    """The account registered with ``email`` (case-insensitive), if any (sharing, invites)."""
    return await repository.get_by_email(uow, email)
