"""Clerk webhooks' effect on users: provision, refresh, erase; deliveries deduplicated.

The payloads are Clerk's (``{"type": "user.created", "data": {...}}``); the
signature was checked before anything here runs. A user is known by the
same subject the JWT path gives them (``<issuer>|<clerk user id>``), so a
webhook and a sign-in always land on one account.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import text

from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.users import service as users

#: Deliveries remembered for replay detection; Svix refuses older timestamps anyway.
DELIVERY_MEMORY: Final = timedelta(days=7)

_CLAIM = text(
    "INSERT INTO clerk_webhook_deliveries (svix_id, event_type) VALUES (:id, :type)"
    " ON CONFLICT (svix_id) DO NOTHING RETURNING svix_id"
)
_PRUNE = text("DELETE FROM clerk_webhook_deliveries WHERE received_at < :before")


@dataclass(frozen=True, slots=True)
class ClerkUser:
    """What LifeOS keeps of a Clerk user object."""

    clerk_id: str
    email: str | None
    name: str | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ClerkUser:
        """Parse ``data`` of a ``user.*`` event; BAD_USER_INPUT if it has no user id."""
        clerk_id = data.get("id")
        if not isinstance(clerk_id, str) or not clerk_id or len(clerk_id) > 200:
            raise BadInput("Clerk event without a user id", field="data.id")
        return cls(clerk_id, _primary_email(data), _display_name(data))


def _primary_email(data: Mapping[str, Any]) -> str | None:
    primary = data.get("primary_email_address_id")
    addresses = data.get("email_addresses")
    if not isinstance(addresses, list):
        return None
    for item in addresses:
        if isinstance(item, dict) and item.get("id") == primary:
            email = item.get("email_address")
            return email if isinstance(email, str) and email else None
    return None


def _display_name(data: Mapping[str, Any]) -> str | None:
    parts = [data.get("first_name"), data.get("last_name")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not name and isinstance(data.get("username"), str):
        name = data["username"].strip()
    return name[:200] or None


def subject_for(issuer: str, clerk_id: str) -> str:
    """The ``users.external_subject`` of a Clerk user (as ``api.authn`` builds it from a JWT)."""
    return f"{issuer.rstrip('/')}|{clerk_id}"


async def claim_delivery(uow: UnitOfWork, svix_id: str, event_type: str) -> bool:
    """Remember a delivery in this transaction; False if it was processed before."""
    await uow.execute(_PRUNE, {"before": utcnow() - DELIVERY_MEMORY})
    row = (await uow.execute(_CLAIM, {"id": svix_id, "type": event_type[:100]})).first()
    return row is not None


async def sync_user(*, uow: UnitOfWork, issuer: str, user: ClerkUser, event: str) -> uuid.UUID:
    """``user.created`` / ``user.updated``: provision or refresh the account."""
    model, created = await users.provision_user(
        uow=uow, subject=subject_for(issuer, user.clerk_id), email=user.email, name=user.name
    )
    await audit.record(
        uow=uow,
        owner_id=model.id,
        action="user.synced",
        target_type="User",
        target_id=str(model.id),
        details={"event": event, "created": created},
    )
    return model.id
