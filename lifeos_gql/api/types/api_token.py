"""``ApiToken`` and ``NewApiToken``: personal access tokens as clients see them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from lifeos_gql.core.actor import Scope as DomainScope
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.tokens.models import ApiToken as ApiTokenModel


@strawberry.enum(description="What an API token may do.")
class Scope(Enum):
    READ = "READ"
    WRITE = "WRITE"
    SUBSCRIBE = "SUBSCRIBE"

    def to_domain(self) -> DomainScope:
        return DomainScope(self.value.lower())

    @classmethod
    def from_domain(cls, value: DomainScope) -> Scope:
        return cls(value.value.upper())


@strawberry.type(description="A personal access token for a third-party tool (never its secret).")
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(
        description="The first characters of the secret, to tell tokens apart."
    )
    scopes: list[Scope] = strawberry.field(
        description="READ runs queries, WRITE mutations and REST captures, SUBSCRIBE subscriptions."
    )
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated a request (updated at most once a minute)."
    )

    @classmethod
    def from_model(cls, model: ApiTokenModel) -> ApiToken:
        return cls(
            id=strawberry.ID(encode_global_id("ApiToken", model.id)),
            name=model.name,
            prefix=model.prefix,
            scopes=sorted(
                (Scope.from_domain(s) for s in model.scopes), key=lambda s: list(Scope).index(s)
            ),
            created_at=model.created_at,
            expires_at=model.expires_at,
            revoked_at=model.revoked_at,
            last_used_at=model.last_used_at,
        )


@strawberry.type(description="A new API token. `token` is shown this once: store it now.")
class NewApiToken:
    token: str = strawberry.field(
        description="The secret, for 'Authorization: Bearer <token>' on /graphql (HTTP and "
        "WebSocket) and the REST API. It cannot be shown again."
    )
    api_token: ApiToken
