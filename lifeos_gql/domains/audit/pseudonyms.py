"""Pseudonyms: what audit rows carry instead of user ids.

A user's pseudonym is random (``p_`` + 128 random bits in hex), made by the
database on first need and stored in ``audit_pseudonyms``, whose row
cascades with the
user's. After erasure the user's audit rows still verify, but nothing maps
their pseudonym back to a person. There is deliberately no process cache:
a cached mapping could outlive an erasure, and a later row written with it
would link the erased trail to whoever reads the cache's output. One
indexed round trip per audit row is cheap next to the write it records.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

_FOR = text("SELECT user_id, pseudonym FROM audit_pseudonyms_for(CAST(:ids AS uuid[]))")
# The acting user's own only (``lifeos.actor_id``): nobody looks up another's.
_OWN = text("SELECT audit_actor_pseudonym() AS pseudonym")
_UUID_TEXT = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def new_pseudonym() -> str:
    """A pseudonym stored nowhere (same form as the database's): links to nothing."""
    return "p_" + secrets.token_hex(16)


async def pseudonyms_for(uow: UnitOfWork, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Pseudonyms of these users, made where missing; ids of no user are left out."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = await uow.execute(_FOR, {"ids": [str(i) for i in wanted]})
    return {row.user_id: row.pseudonym for row in rows}


async def actor_pseudonym(uow: UnitOfWork) -> str | None:
    """The acting user's pseudonym if one was ever needed (reads never create one)."""
    row = (await uow.execute(_OWN)).first()
    return str(row.pseudonym) if row and row.pseudonym else None


def uuids_in(value: Any) -> set[uuid.UUID]:
    """Every UUID written as text anywhere in a JSON-like value."""
    found: set[uuid.UUID] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UUID_TEXT.match(item):
                found.add(uuid.UUID(item))
        elif isinstance(item, uuid.UUID):
            found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def replace_ids(value: Any, mapping: dict[uuid.UUID, str]) -> Any:
    """A copy of ``value`` with every mapped UUID (text or object) replaced."""
    if not mapping:
        return value
    if isinstance(value, str):
        if _UUID_TEXT.match(value):
            return mapping.get(uuid.UUID(value), value)
        return value
    if isinstance(value, uuid.UUID):
        return mapping.get(value, str(value))
    if isinstance(value, dict):
        return {k: replace_ids(v, mapping) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [replace_ids(v, mapping) for v in value]
    return value
