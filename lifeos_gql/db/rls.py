"""Row-level security: the request path's role and the start-up check.

Migration 0012 creates ``lifeos_app`` (LOGIN, no BYPASSRLS, owns nothing)
and puts policies keyed on ``lifeos.actor_id`` on every user-data table.
The request path logs in as ``lifeos_app`` (``DATABASE_APP_URL``, derived
from ``DATABASE_URL`` when unset) on its own pool and sets the actor per
transaction; privileged work (jobs, commands, authentication lookups, key
storage) logs in as the tables' owner, which RLS does not filter.

What this wall stops: a query in the request path that forgot its filter,
or a future compiled read path, reading or writing another user's rows;
``RESET ROLE`` in a request connection stays ``lifeos_app``. What it does
not stop: SQL injected into a request connection could still set
``lifeos.actor_id`` to another user (the actor is a setting, as in
PostgREST). Every statement here is parameterised.

A table added by a later migration gets no access for ``lifeos_app`` until
that migration grants it and adds policies (``owner_only_sql``); the RLS
test fails for an ``owner_id`` table without them.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from lifeos_gql.core.errors import ConfigError

APP_ROLE = "lifeos_app"

_CHECK = text(
    """
    SELECT r.rolname, r.rolsuper, r.rolbypassrls
    FROM pg_roles r WHERE r.rolname = current_user
    """
)


def app_database_url(database_url: str, configured: str | None) -> str:
    """The request path's URL: ``configured``, or ``database_url`` logging in as lifeos_app."""
    if configured:
        return configured
    url = make_url(database_url).set(username=APP_ROLE, password=None)
    return url.render_as_string(hide_password=False)


async def check_app_login(engine: AsyncEngine) -> None:
    """Fail start-up with one line unless ``engine`` logs in as a walled role.

    The login must work and be neither a superuser nor able to bypass RLS
    (a DBA may have made the role by hand, or pointed the URL elsewhere).
    """
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(_CHECK)).first()
            await conn.rollback()
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else exc.__class__.__name__
        raise ConfigError(
            f"DATABASE_APP_URL: cannot log in as {APP_ROLE} for row-level security "
            f"({reason}); run migrations, or set DATABASE_APP_URL with its password"
        ) from exc
    if row is None or row[1] or row[2]:
        who = row[0] if row else "this login"
        raise ConfigError(
            f"DATABASE_APP_URL: {who} is SUPERUSER or BYPASSRLS, which defeats "
            f"row-level security: log in as {APP_ROLE} (NOSUPERUSER NOBYPASSRLS)"
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
