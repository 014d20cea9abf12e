"""Migrations run from an empty database and downgrade cleanly."""

from __future__ import annotations

import psycopg

from lifeos_gql.db import migrate
from lifeos_gql.db.urls import libpq_url

CORE_TABLES = {
    "users",
    "streams",
    "captures",
    "insights",
    "insight_sources",
    "concepts",
    "edges",
    "grants",
    "api_tokens",
    "audit_log",
    "events",
    "data_keys",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_upgrade_from_empty_then_downgrade_to_base(empty_db_url):
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision(empty_db_url)
    assert _tables(empty_db_url) >= CORE_TABLES
    migrate.downgrade(empty_db_url, "base")
    assert _tables(empty_db_url) == {"alembic_version"}
    migrate.upgrade(empty_db_url)
    assert _tables(empty_db_url) >= CORE_TABLES


def test_every_user_data_table_has_owner_id(db_url):
    with psycopg.connect(libpq_url(db_url)) as conn:
        rows = conn.execute(
            """
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name = 'owner_id'
            """
        ).fetchall()
    with_owner = {r[0] for r in rows}
    user_data = CORE_TABLES - {"users", "audit_log"}
    assert user_data <= with_owner, user_data - with_owner


def test_missing_pgvector_is_a_clear_config_error():
    """The machine's system Postgres has no pgvector: start-up must say so."""
    import pytest

    from lifeos_gql.core.errors import ConfigError

    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            has_vector = conn.execute(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()[0]
    except psycopg.OperationalError:
        pytest.skip("no Postgres without pgvector at 127.0.0.1:5432 to try")
    if has_vector:
        pytest.skip("the Postgres at 127.0.0.1:5432 has pgvector")
    with pytest.raises(ConfigError, match="pgvector"):
        migrate.upgrade(url)
