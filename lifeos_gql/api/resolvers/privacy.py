"""GDPR mutations (merged into ``Mutation``) and the ``me.exports`` list."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.privacy import ErasureReceipt, Export
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.domains.privacy import service as privacy


async def my_exports(ctx: Context, user_id: uuid.UUID, first: int | None) -> list[Export]:
    """``User.exports``: the caller's own exports (the field is theirs alone)."""
    limit = clamp_first(first, default=20)
    found = await ctx.loaders.own.fetch(
        ("exports", user_id, limit),
        lambda uow: privacy.exports_of_users(
            uow=uow, actor=ctx.actor, user_ids=[user_id], limit=limit
        ),
    )
    return [Export.from_model(m) for m in found[user_id]]


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Export everything LifeOS holds about you. Built in the background: "
        "poll `me { exports { status downloadUrl } }` until READY. A build already "
        "under way is returned instead of starting another."
    )
    async def export_my_data(self, info: Info[Context, None]) -> Export:
        ctx = info.context
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await privacy.request_export(uow=uow, actor=ctx.actor)
        return Export.from_model(record)

    @strawberry.mutation(
        description="Erase your account and everything in it, for good. `confirm` must be "
        "'ERASE <your email>'. Also removes captures you added to other people's streams. "
        "Needs a signed-in session (not an API token)."
    )
    async def erase_my_account(self, info: Info[Context, None], confirm: str) -> ErasureReceipt:
        ctx = info.context
        runtime = ctx.runtime
        # The privileged handle: erasure reaches into other users' streams.
        async with runtime.system_db.transaction(ctx.require_user()) as uow:
            erasure = await privacy.erase_my_account(uow=uow, actor=ctx.actor, confirm=confirm)
        receipt = await privacy.purge_outside_db(
            erasure,
            keys=runtime.capture_crypto.keys,
            vectors=runtime.vectors,
            redis=runtime.redis,
            forget=runtime.authenticator.forget_user,
            db=runtime.system_db,
        )
        return ErasureReceipt.from_model(receipt)
