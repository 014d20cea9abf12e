"""Shared fixtures: a real Postgres (embedded by default) and a real Redis.

Isolation: migrations run once into a template database; each test that
needs the database gets its own clone (``CREATE DATABASE ... TEMPLATE``),
so tests may commit on several connections and still never see each other.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from lifeos_gql.config import Settings
from lifeos_gql.db import migrate
from lifeos_gql.db.urls import libpq_url

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEMPLATE = f"lifeos_tpl_{uuid.uuid4().hex[:8]}"


def _with_dbname(url: str, name: str) -> str:
    conninfo = psycopg.conninfo.conninfo_to_dict(libpq_url(url))
    conninfo["dbname"] = name
    return psycopg.conninfo.make_conninfo(**conninfo)


def _as_url(conninfo: str) -> str:
    """libpq key/value conninfo -> postgresql:// URL (SQLAlchemy wants URLs)."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    from urllib.parse import quote

    user = quote(str(params.pop("user", "postgres")))
    password = params.pop("password", None)
    host = str(params.pop("host", ""))
    port = params.pop("port", None)
    dbname = params.pop("dbname")
    auth = f"{user}:{quote(str(password))}" if password else user
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    if host.startswith("/"):
        query = f"host={quote(host)}" + (f"&{query}" if query else "")
        if port:
            query += f"&port={port}"
        return f"postgresql://{auth}@/{dbname}?{query}"
    netloc = f"{host}:{port}" if port else host
    return f"postgresql://{auth}@{netloc}/{dbname}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The server under test: LIFEOS_TEST_DATABASE_URL, else an embedded one.

    The embedded data dir is not under pytest's tmp_path: pytest prunes old
    basetemp dirs when other pytest sessions start, which would pull the
    data dir from under a running server.
    """
    configured = os.environ.get("LIFEOS_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    import shutil
    import tempfile

    from lifeos_gql.db.embedded import start_embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="lifeos-test-pg-"))
    data_dir.chmod(0o755)  # pgserver runs postgres as its own user when we are root
    try:
        yield start_embedded_postgres(data_dir)
    finally:
        from lifeos_gql.db.embedded import stop_embedded_postgres

        stop_embedded_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    admin = libpq_url(pg_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    url = _as_url(_with_dbname(pg_server_url, TEMPLATE))
    migrate.upgrade(url)
    yield TEMPLATE
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE))
        )


def clone_database(pg_server_url: str, template: str) -> tuple[str, str]:
    name = f"lifeos_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(pg_server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY WAL_LOG").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return name, _as_url(_with_dbname(pg_server_url, name))


def drop_database(pg_server_url: str, name: str) -> None:
    with psycopg.connect(libpq_url(pg_server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database of this test's own."""
    name, url = clone_database(pg_server_url, template_db)
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A database with no schema at all (migration tests)."""
    name = f"lifeos_e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(pg_server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _as_url(_with_dbname(pg_server_url, name))
    drop_database(pg_server_url, name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis: skipped with a reason locally, a failure in CI."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required in CI but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def dev_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dev signing key per session: RSA key generation is slow."""
    from lifeos_gql.infra.auth.dev_issuer import DevIssuer

    data_dir = tmp_path_factory.mktemp("devkey")
    DevIssuer.load_or_create(data_dir)
    return data_dir / "dev-jwt-key.pem"


@pytest.fixture
def data_dir(tmp_path: Path, dev_key_file: Path) -> Path:
    import shutil

    path = tmp_path / "data"
    path.mkdir()
    shutil.copy2(dev_key_file, path / dev_key_file.name)
    return path


@pytest.fixture
def settings(db_url: str, data_dir: Path) -> Settings:
    return make_settings(database_url=db_url, lifeos_data_dir=data_dir)


def make_settings(**overrides: Any) -> Settings:
    """Settings that ignore the developer's environment and ``.env``."""
    # No background analysis unless a test asks for it: keeps tests deterministic.
    base: dict[str, Any] = {
        "lifeos_env": "dev",
        "redis_url": None,
        "lifeos_inprocess_worker": False,
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Any]:
    """An httpx client talking to the app in-process, lifespan included."""
    import httpx

    from lifeos_gql.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
