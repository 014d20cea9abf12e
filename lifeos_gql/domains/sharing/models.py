"""Records of the sharing domain: grants, personas and persona shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lifeos_gql.domains.sharing.policy import Role


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A role on a stream for a person, or for an email with no account yet.

    ``persona_share_id`` is set when the grant came from a persona share
    (``persona_id`` names that persona); such grants follow the persona.
    """

    id: uuid.UUID
    owner_id: uuid.UUID
    stream_id: uuid.UUID
    grantee_id: uuid.UUID | None
    grantee_email: str | None
    role: Role
    persona_share_id: uuid.UUID | None
    persona_id: uuid.UUID | None
    created_at: datetime

    @property
    def pending(self) -> bool:
        return self.grantee_id is None

    @property
    def direct(self) -> bool:
        return self.persona_share_id is None


@dataclass(frozen=True, slots=True)
class PersonaRecord:
    """A named facet of its owner's life grouping streams they own."""

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PersonaShareRecord:
    """A persona shared with a person (or a pending email): a bundle of grants."""

    id: uuid.UUID
    owner_id: uuid.UUID
    persona_id: uuid.UUID
    grantee_id: uuid.UUID | None
    grantee_email: str | None
    role: Role
    created_at: datetime

    @property
    def pending(self) -> bool:
        return self.grantee_id is None
