"""Input cleaning for sharing: email addresses and persona names."""

from __future__ import annotations

import re

from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.sharing.policy import Role, grantable

MAX_EMAIL_CHARS = 254  # RFC 5321 path limit
MAX_PERSONA_NAME_CHARS = 100
# Deliberately plain: one @, a dot in the domain, no spaces or angle brackets.
# Whether the mailbox exists is the identity provider's business.
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")


def clean_email(email: str, *, field: str = "email") -> str:
    """The address trimmed and lower-cased, or ``BadInput`` naming the field."""
    cleaned = email.strip().lower()
    if not cleaned:
        raise BadInput("Email address must not be empty", field=field)
    if len(cleaned) > MAX_EMAIL_CHARS:
        raise BadInput(f"Email address is longer than {MAX_EMAIL_CHARS} characters", field=field)
    if not _EMAIL.match(cleaned) or ".." in cleaned:
        raise BadInput("That is not a valid email address", field=field)
    return cleaned


def clean_grant_role(role: Role, *, field: str = "role") -> Role:
    """Grants carry COLLABORATOR or VIEWER; OWNER moves by ``transferOwnership``."""
    if not grantable(role):
        raise BadInput("A grant cannot make someone OWNER; use transferOwnership", field=field)
    return role


def clean_persona_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadInput("Persona name must not be empty", field="name")
    if len(cleaned) > MAX_PERSONA_NAME_CHARS:
        raise BadInput(
            f"Persona name is longer than {MAX_PERSONA_NAME_CHARS} characters", field="name"
        )
    return cleaned
