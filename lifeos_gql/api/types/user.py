"""The ``User`` type."""

from __future__ import annotations

from datetime import datetime

import strawberry

from lifeos_gql.api.types.node import Node
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.users.models import User as UserModel


@strawberry.type(description="A person using LifeOS.")
class User(Node):
    email: str | None
    name: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, model: UserModel) -> User:
        return cls(
            id=strawberry.ID(encode_global_id("User", model.id)),
            email=model.email,
            name=model.name,
            created_at=model.created_at,
        )
