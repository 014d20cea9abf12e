"""Row-level security: the app role and policies on every user-data table (issue 6).

The second wall behind the app's own permission checks. Request-path
path logs in as ``lifeos_app`` (see ``lifeos_gql.db.rls``), a LOGIN role
without BYPASSRLS that owns nothing, with ``lifeos.actor_id`` set to the
acting user per transaction. Privileged work (jobs,
commands, authentication lookups, erasure) runs as the login user that ran
these migrations: it owns the tables, and RLS is enabled but not FORCEd, so
the owner is not filtered. (FORCE would also filter the SECURITY DEFINER
functions below, which run as the owner and read ``streams``/``grants``.)

Visibility (``lifeos.actor_id`` empty or unset: no rows anywhere):

* ``streams``, ``captures``: the owner's, and streams the actor holds a grant on;
* owner-scoped graph data without a stream (``insights``, ``insight_sources``,
  ``concepts``, ``edges``, ``embeddings``, ``events``): the actor's own and
  that of owners who granted the actor any stream; the app's lineage filter
  is the finer first wall;
* ``users``: the actor, and the owners and grantees of streams they can see;
* ``grants``: those the actor gave or holds;
* ``audit_log``: the actor's own chain;
* every other table with an ``owner_id`` (tokens, data keys, idempotency
  keys, and whatever earlier revisions of this issue added): the owner's only.

Writes: an owner writes their own rows; a COLLABORATOR (or OWNER grantee)
adds captures to the granted stream and writes the stream owner's graph
(edges, concepts, events: ``linkNodes``, ``mergeConcepts``) and audit chain.

Every grant check goes through a ``STABLE SECURITY DEFINER`` function that
returns an array, used as ``col = ANY((SELECT fn())::uuid[])``: an
initPlan, evaluated once per statement rather than per row. (The cast
matters: ``ANY((SELECT ...))`` would parse as ``ANY (subquery)``.)

The role is cluster-wide, so it is created only when missing; a login user
without CREATEROLE fails with one line naming the statements a DBA must run.
Tables added by later revisions get nothing from ``lifeos_app`` until a
migration grants and protects them (``lifeos_gql.db.rls`` has the SQL), and
``tests/integration/test_row_level_security.py`` fails for any ``owner_id``
table left without a policy.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

APP_ROLE = "lifeos_app"

A = "(SELECT lifeos_actor())"
VISIBLE_STREAMS = "(SELECT lifeos_visible_streams())::uuid[]"
WRITABLE_STREAMS = "(SELECT lifeos_writable_streams())::uuid[]"
VISIBLE_OWNERS = "(SELECT lifeos_visible_owners())::uuid[]"
WRITABLE_OWNERS = "(SELECT lifeos_writable_owners())::uuid[]"
RELATED_USERS = "(SELECT lifeos_related_users())::uuid[]"
IN_OWNED = "stream_id = ANY((SELECT lifeos_owned_streams())::uuid[])"
OWN_CHAINS = "(SELECT lifeos_own_chains())::text[]"
WRITABLE_CHAINS = "(SELECT lifeos_writable_chains())::text[]"

# Owner-scoped graph tables: readable through any grant of the owner,
# writable by the owner and the owner's collaborators.
GRAPH_TABLES = ("insights", "insight_sources", "concepts", "edges", "embeddings", "events")

# (table, policy, command, USING, WITH CHECK)
POLICIES: list[tuple[str, str, str, str | None, str | None]] = [
    ("users", "users_select", "SELECT", f"id = {A} OR id = ANY({RELATED_USERS})", None),
    ("users", "users_update", "UPDATE", f"id = {A}", f"id = {A}"),
    (
        "streams",
        "streams_select",
        "SELECT",
        # owner_id first: a stream inserted by this very statement (RETURNING)
        # is not yet in the function's snapshot.
        f"owner_id = {A} OR id = ANY({VISIBLE_STREAMS})",
        None,
    ),
    ("streams", "streams_insert", "INSERT", None, f"owner_id = {A}"),
    ("streams", "streams_update", "UPDATE", f"owner_id = {A}", f"owner_id = {A}"),
    ("streams", "streams_delete", "DELETE", f"owner_id = {A}", None),
    (
        "captures",
        "captures_select",
        "SELECT",
        f"owner_id = {A} OR stream_id = ANY({VISIBLE_STREAMS})",
        None,
    ),
    (
        "captures",
        "captures_insert",
        "INSERT",
        None,
        f"stream_id = ANY({WRITABLE_STREAMS}) AND owner_id = ANY({WRITABLE_OWNERS})",
    ),
    (
        "captures",
        "captures_update",
        "UPDATE",
        f"stream_id = ANY({WRITABLE_STREAMS})",
        f"stream_id = ANY({WRITABLE_STREAMS}) AND owner_id = ANY({WRITABLE_OWNERS})",
    ),
    ("captures", "captures_delete", "DELETE", f"owner_id = {A}", None),
    ("grants", "grants_select", "SELECT", f"owner_id = {A} OR grantee_id = {A}", None),
    (
        "grants",
        "grants_insert",
        "INSERT",
        None,
        f"owner_id = {A} AND {IN_OWNED}",
    ),
    (
        "grants",
        "grants_update",
        "UPDATE",
        f"owner_id = {A}",
        f"owner_id = {A} AND {IN_OWNED}",
    ),
    ("grants", "grants_delete", "DELETE", f"owner_id = {A} OR grantee_id = {A}", None),
    # A stream's owner sees and revokes ingest tokens others made for it.
    ("api_tokens", "api_tokens_select", "SELECT", f"owner_id = {A} OR {IN_OWNED}", None),
    (
        "api_tokens",
        "api_tokens_insert",
        "INSERT",
        None,
        f"owner_id = {A} AND (stream_id IS NULL OR stream_id = ANY({WRITABLE_STREAMS}))",
    ),
    (
        "api_tokens",
        "api_tokens_update",
        "UPDATE",
        f"owner_id = {A} OR {IN_OWNED}",
        f"owner_id = {A} OR {IN_OWNED}",
    ),
    ("api_tokens", "api_tokens_delete", "DELETE", f"owner_id = {A}", None),
    *[
        row
        for table in GRAPH_TABLES
        for row in [
            (table, f"{table}_select", "SELECT", f"owner_id = ANY({VISIBLE_OWNERS})", None),
            (table, f"{table}_insert", "INSERT", None, f"owner_id = ANY({WRITABLE_OWNERS})"),
            (
                table,
                f"{table}_update",
                "UPDATE",
                f"owner_id = ANY({WRITABLE_OWNERS})",
                f"owner_id = ANY({WRITABLE_OWNERS})",
            ),
            (table, f"{table}_delete", "DELETE", f"owner_id = {A}", None),
        ]
    ],
    ("audit_log", "audit_log_select", "SELECT", f"chain_id = ANY({OWN_CHAINS})", None),
    ("audit_log", "audit_log_insert", "INSERT", None, f"chain_id = ANY({WRITABLE_CHAINS})"),
]


def _execute_raw(sql: str) -> None:
    """Run ``sql`` on the migration's psycopg connection (plpgsql ``:`` and ``%`` as is)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # a live psycopg connection while migrating
    driver.execute(sql)


ROLE_SQL = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        BEGIN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
                NOINHERIT;
        EXCEPTION
            WHEN duplicate_object THEN NULL;  -- another database's migration won the race
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'row-level security needs the role {APP_ROLE}, and % may not create roles: have a DBA run "CREATE ROLE {APP_ROLE} LOGIN PASSWORD ... NOBYPASSRLS; GRANT {APP_ROLE} TO %;" then migrate again', current_user, current_user;
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}' AND NOT rolcanlogin) THEN
        BEGIN
            ALTER ROLE {APP_ROLE} LOGIN;  -- made NOLOGIN by an earlier build of this revision
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'row-level security: the request path logs in as {APP_ROLE}: have a DBA run "ALTER ROLE {APP_ROLE} LOGIN PASSWORD ...;" then migrate again';
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}'
               AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role {APP_ROLE} must not be SUPERUSER or BYPASSRLS: it is the row-level security wall';
    END IF;
    IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'row-level security: % must be granted {APP_ROLE}: have a DBA run "GRANT {APP_ROLE} TO %;" then migrate again', current_user, current_user;
        END;
    END IF;
END $$;
"""

# The grant checks. SECURITY DEFINER: they read streams/grants as the owner
# (no RLS recursion); ``SET search_path`` pins the schema they resolve in.
FUNCTIONS = {
    "lifeos_owned_streams()": "SELECT coalesce(array_agg(id), '{}') FROM streams"
    " WHERE owner_id = lifeos_actor()",
    "lifeos_visible_streams()": "SELECT coalesce(array_agg(id), '{}') FROM ("
    " SELECT id FROM streams WHERE owner_id = lifeos_actor()"
    " UNION SELECT stream_id FROM grants WHERE grantee_id = lifeos_actor()) v",
    "lifeos_writable_streams()": "SELECT coalesce(array_agg(id), '{}') FROM ("
    " SELECT id FROM streams WHERE owner_id = lifeos_actor()"
    " UNION SELECT stream_id FROM grants WHERE grantee_id = lifeos_actor()"
    "   AND role IN ('OWNER', 'COLLABORATOR')) v",
    "lifeos_visible_owners()": "SELECT coalesce(array_agg(id), '{}') FROM ("
    " SELECT lifeos_actor() AS id WHERE lifeos_actor() IS NOT NULL"
    " UNION SELECT owner_id FROM grants WHERE grantee_id = lifeos_actor()) v",
    "lifeos_writable_owners()": "SELECT coalesce(array_agg(id), '{}') FROM ("
    " SELECT lifeos_actor() AS id WHERE lifeos_actor() IS NOT NULL"
    " UNION SELECT owner_id FROM grants WHERE grantee_id = lifeos_actor()"
    "   AND role IN ('OWNER', 'COLLABORATOR')) v",
    # Owners and grantees of every stream the actor can see (themself included).
    "lifeos_related_users()": "SELECT coalesce(array_agg(id), '{}') FROM ("
    " SELECT lifeos_actor() AS id WHERE lifeos_actor() IS NOT NULL"
    " UNION SELECT g.owner_id FROM grants g WHERE g.grantee_id = lifeos_actor()"
    " UNION SELECT g.grantee_id FROM grants g WHERE g.grantee_id IS NOT NULL AND g.stream_id IN ("
    "   SELECT id FROM streams WHERE owner_id = lifeos_actor()"
    "   UNION SELECT stream_id FROM grants WHERE grantee_id = lifeos_actor())) v",
}

# Index lookups the planner cannot make under RLS. A policy's quals run
# before any non-leakproof operator of the query, so ``search @@ q`` and the
# trigram ``%`` cannot use their GIN indexes for ``lifeos_app`` (a seq scan:
# 0.4 ms -> 25 ms at 50,000 captures). These definer functions make the
# index lookup and apply the SELECT policies' own rule (they must stay equal
# to ``captures_select``, ``insights_select``, ``concepts_select``); the
# caller joins their ids back to the table under RLS.
MATCHERS = {
    "lifeos_captures_matching(q tsquery)": "SELECT id FROM captures WHERE search @@ q"
    f" AND (owner_id = {A} OR stream_id = ANY({VISIBLE_STREAMS}))",
    "lifeos_insights_matching(q tsquery)": "SELECT id FROM insights"
    f" WHERE search @@ q AND superseded_at IS NULL AND owner_id = ANY({VISIBLE_OWNERS})",
    # One arm per operator, each served by its own index (see search/repository.py).
    # (``$1``, not a parameter name: concepts has a ``name`` column, which would win.)
    "lifeos_concepts_named(wanted text)": "SELECT id FROM ("
    " SELECT id, owner_id FROM concepts WHERE normalized_name % $1"
    " UNION SELECT id, owner_id FROM concepts WHERE normalized_name %> $1"
    " UNION SELECT id, owner_id FROM concepts WHERE $1 = ANY(normalized_aliases)) k"
    f" WHERE owner_id = ANY({VISIBLE_OWNERS})",
}


def _audit_functions() -> dict[str, str]:
    """Chain ids of the actor (read) and of the owners they may write for (append).

    A chain is ``user:<pseudonym>`` (``audit_pseudonyms``, revision 0010);
    chains written before pseudonyms were ``user:<user id>``, and both
    belong to the same person.
    """
    chains = (
        "SELECT coalesce(array_agg(c), '{{}}') FROM ("
        " SELECT 'user:' || o AS c FROM unnest({owners}) AS o"
        " UNION ALL SELECT 'user:' || p.pseudonym FROM audit_pseudonyms p"
        " WHERE p.user_id = ANY({owners})) v"
    )
    if not _has_column("audit_pseudonyms", "pseudonym"):
        chains = "SELECT coalesce(array_agg('user:' || o), '{{}}') FROM unnest({owners}) AS o"
    return {
        "lifeos_own_chains()": chains.format(
            owners="ARRAY(SELECT lifeos_actor() WHERE lifeos_actor() IS NOT NULL)"
        ),
        "lifeos_writable_chains()": chains.format(owners="lifeos_writable_owners()"),
    }


def _column(sql: str) -> list[str]:
    """The first column of ``sql``'s rows, read on the driver connection (no placeholders)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    return [row[0] for row in driver.execute(sql).fetchall()]


def _owner_tables() -> list[str]:
    """Every ordinary or partitioned table of this schema with an ``owner_id`` column."""
    return _column(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """
    )


def _has_column(table: str, column: str) -> bool:
    return bool(
        _column(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            f" AND table_name = '{table}' AND column_name = '{column}'"
        )
    )


def _policy_sql(table: str, name: str, command: str, using: str | None, check: str | None) -> str:
    sql = f"CREATE POLICY {name} ON {table} AS PERMISSIVE FOR {command} TO {APP_ROLE}"
    if using is not None:
        sql += f" USING ({using})"
    if check is not None:
        sql += f" WITH CHECK ({check})"
    return sql + ";"


def _all_policies() -> list[tuple[str, str, str, str | None, str | None]]:
    """The explicit policies, then owner-only (or owner-or-grantee read) for the rest."""
    policies = list(POLICIES)
    explicit = {p[0] for p in policies}
    for table in _owner_tables():
        if table in explicit:
            continue
        if _has_column(table, "grantee_id"):
            # Shares: the grantee may see what was shared with them.
            read = f"owner_id = {A} OR grantee_id = {A}"
            policies.append((table, f"{table}_select", "SELECT", read, None))
            for command in ("INSERT", "UPDATE", "DELETE"):
                using = None if command == "INSERT" else f"owner_id = {A}"
                check = None if command == "DELETE" else f"owner_id = {A}"
                policies.append((table, f"{table}_{command.lower()}", command, using, check))
        else:
            policies.append((table, f"{table}_owner", "ALL", f"owner_id = {A}", f"owner_id = {A}"))
    return policies


def upgrade() -> None:
    _execute_raw(ROLE_SQL)
    schema = _column("SELECT current_schema()")[0]
    _execute_raw(
        "CREATE FUNCTION lifeos_actor() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS"
        " $$ SELECT NULLIF(current_setting('lifeos.actor_id', true), '')::uuid $$;"
    )
    for signature, body in {**FUNCTIONS, **_audit_functions()}.items():
        returns = "text[]" if "chains" in signature else "uuid[]"
        _execute_raw(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE"
            f" SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$ {body} $$;"
            f" REVOKE ALL ON FUNCTION {signature} FROM PUBLIC;"
            f" GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE};"
        )
    for signature, body in MATCHERS.items():
        _execute_raw(
            f"CREATE FUNCTION {signature} RETURNS SETOF uuid LANGUAGE sql STABLE ROWS 100"
            f" SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$ {body} $$;"
            f" REVOKE ALL ON FUNCTION {signature} FROM PUBLIC;"
            f" GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE};"
        )
    policies = _all_policies()
    protected = sorted({p[0] for p in policies})
    statements = [f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;" for t in protected]
    statements += [_policy_sql(*p) for p in policies]
    statements.append(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(protected)} TO {APP_ROLE};"
    )
    # procrastinate's tables: the request path queues analysis jobs in the
    # capture's transaction and checks whether a capture's job is alive.
    jobs = _column(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename LIKE 'procrastinate\\_%'"
    )
    if jobs:
        statements.append(f"GRANT SELECT, INSERT, UPDATE ON {', '.join(jobs)} TO {APP_ROLE};")
    statements.append(f"GRANT USAGE ON SCHEMA {schema} TO {APP_ROLE};")
    # Capture ingest stages rows in a temp table (COPY); PUBLIC usually has
    # TEMPORARY, a hardened server may not.
    statements.append(
        f"DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {APP_ROLE}',"
        " current_database()); END $$;"
    )
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {APP_ROLE};")
    _execute_raw("\n".join(statements))


def downgrade() -> None:
    schema = _column("SELECT current_schema()")[0]
    _execute_raw(
        f"""
        DO $$
        DECLARE obj record;
        BEGIN
            FOR obj IN SELECT tablename, policyname FROM pg_policies
                       WHERE schemaname = current_schema() AND '{APP_ROLE}' = ANY(roles)
            LOOP
                EXECUTE format('DROP POLICY %I ON %I', obj.policyname, obj.tablename);
            END LOOP;
            FOR obj IN SELECT c.relname FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = current_schema() AND c.relrowsecurity
            LOOP
                EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', obj.relname);
            END LOOP;
            FOR obj IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                       JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE n.nspname = current_schema() AND p.proname LIKE 'lifeos\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || obj.sig;
            END LOOP;
        END $$;
        REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {APP_ROLE};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {APP_ROLE};
        REVOKE ALL ON SCHEMA {schema} FROM {APP_ROLE};
        DO $$ BEGIN
            EXECUTE format('REVOKE ALL ON DATABASE %I FROM {APP_ROLE}', current_database());
        END $$;
        -- The role is cluster-wide: other databases of this cluster (another
        -- LifeOS, test clones) may still use it, and then it stays.
        DO $$
        BEGIN
            DROP ROLE {APP_ROLE};
        EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
            RAISE NOTICE 'role {APP_ROLE} kept: still used elsewhere or not ours to drop';
        END $$;
        """
    )
