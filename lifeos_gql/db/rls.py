"""Row-level security: the request path's role and the start-up check.

Migration 0012 creates ``lifeos_app`` (NOLOGIN, no BYPASSRLS, owns nothing),
grants it to the login user, and puts policies keyed on ``lifeos.actor_id``
on every user-data table. Request-path transactions switch to it with
``set_config('role', 'lifeos_app', true)`` (``SET LOCAL ROLE``, in the same
statement that sets the actor); privileged work stays the login user, the
tables' owner, which RLS does not filter.

What this wall stops: a query in the request path that forgot its filter,
or a future compiled read path, reading or writing another user's rows.
What it does not stop: arbitrary SQL injected into a request connection,
which could ``RESET ROLE`` or set ``lifeos.actor_id`` itself (role
membership is checked against the session user). Every statement here is
parameterised; the wall is for bugs, not for an attacker who runs SQL.

A table added by a later migration gets no access for ``lifeos_app`` until
that migration grants it and adds policies (``owner_only_sql``); the RLS
test fails for an ``owner_id`` table without them.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from lifeos_gql.core.errors import ConfigError

APP_ROLE = "lifeos_app"

_CHECK = text(
    """
    SELECT set_config('role', :role, true), r.rolsuper, r.rolbypassrls
    FROM pg_roles r WHERE r.rolname = :role
    """
)


async def check_app_role(engine: AsyncEngine) -> None:
    """Fail start-up with one line unless the login user can become ``lifeos_app``.

    The role must exist (migration 0012), be grantable to this user, and
    neither be a superuser nor bypass RLS (a DBA may have made it by hand).
    """
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(_CHECK, {"role": APP_ROLE})).first()
            await conn.rollback()
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else exc.__class__.__name__
        raise ConfigError(
            f"DATABASE_URL: this user cannot SET ROLE {APP_ROLE} for row-level security "
            f"({reason}); run migrations or GRANT {APP_ROLE} TO the user"
        ) from exc
    if row is None:
        raise ConfigError(
            f"DATABASE_URL: role {APP_ROLE} is missing: run migrations (lifeos-gql migrate)"
        )
    if row[1] or row[2]:
        raise ConfigError(
            f"DATABASE_URL: role {APP_ROLE} is SUPERUSER or BYPASSRLS, which defeats "
            "row-level security: ALTER ROLE lifeos_app NOSUPERUSER NOBYPASSRLS"
        )


def owner_only_sql(table: str) -> str:
    """SQL a later migration runs for a new table keyed by ``owner_id``."""
    actor = "(SELECT lifeos_actor())"
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
        f" CREATE POLICY {table}_owner ON {table} FOR ALL TO {APP_ROLE}"
        f" USING (owner_id = {actor}) WITH CHECK (owner_id = {actor});"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE};"
    )
