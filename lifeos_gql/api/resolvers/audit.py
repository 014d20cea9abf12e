"""``User.auditLog``: a user reads their own audit trail (mixed into ``User``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.permissions import requires_role
from lifeos_gql.api.types.audit import AuditLogConnection
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.sharing.policy import Role as DomainRole

if TYPE_CHECKING:
    from lifeos_gql.domains.users.models import User as UserModel


@strawberry.type
class UserAuditLog:
    if TYPE_CHECKING:  # provided by ``User``; not a GraphQL field here
        _model: UserModel

    @strawberry.field(
        description="Your own audit trail, newest first: every change, export and erasure "
        "in your data (yours only).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def audit_log(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> AuditLogConnection | None:
        ctx = info.context
        owner_id = self._model.id
        page = await ctx.loaders.own.fetch(
            ("auditLog", owner_id, first, after),
            lambda uow: audit.page_trail(
                uow=uow, actor=ctx.actor, owner_id=owner_id, first=clamp_first(first), after=after
            ),
        )
        return AuditLogConnection.build(page)
