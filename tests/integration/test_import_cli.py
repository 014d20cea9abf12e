"""``lifeos-gql import``: every format, twice, stores each item once.

The library path (``import_file``) runs in-process against a real Postgres;
the command itself runs as a subprocess, once on pipes and once under a
pseudo-terminal to see the progress bar drawn (and not drawn).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import psycopg
import pytest

from lifeos_gql.bootstrap import CoreRuntime, open_runtime
from lifeos_gql.config import Settings
from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import BadInput, Forbidden, NotFound
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import SourceKind
from lifeos_gql.domains.users import service as users
from lifeos_gql.importers import IMPORTERS, get_importer
from lifeos_gql.importers.runner import ImportReport, import_file, resolve_actor
from tests.unit.importers import samples

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "mbox": samples.write_mbox,
    "eml": samples.write_eml_dir,
    "epub": samples.write_epub,
    "kindle": samples.write_kindle,
    "markdown": samples.write_notes,
    "text": samples.write_notes,
    "pdf": samples.write_pdf,
    "pdf-pages": samples.write_pdf,
    "slack": samples.write_slack_export,
    "chat-json": samples.write_chat_json,
    "ics": samples.write_ics,
    "gpx": samples.write_gpx,
    "apple-health": samples.write_apple_health,
    "csv": samples.write_csv,
}


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[CoreRuntime]:
    async with open_runtime(settings) as rt:
        yield rt


async def make_user(rt: CoreRuntime, email: str) -> Actor:
    async with rt.system_db.transaction() as uow:
        user, _ = await users.provision_user(
            uow=uow, subject=f"test|{email}", email=email, name=None
        )
    return Actor(user_id=user.id, via="test")


async def make_stream(rt: CoreRuntime, actor: Actor, source: str = "other") -> uuid.UUID:
    async with rt.db.transaction(actor.user_id) as uow:
        stream = await streams.create_stream(
            uow=uow, actor=actor, name="Imports", source=SourceKind(source)
        )
    return stream.id


def count_rows(db_url: str, stream_id: uuid.UUID) -> int:
    with psycopg.connect(libpq_url(db_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM captures WHERE stream_id = %s", (stream_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_every_format_has_a_sample() -> None:
    assert set(BUILDERS) == set(IMPORTERS)


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
async def test_importing_twice_stores_each_item_once(
    fmt: str, runtime: CoreRuntime, db_url: str, tmp_path: Path
) -> None:
    actor = await make_user(runtime, "ada@example.com")
    stream_id = await make_stream(runtime, actor, get_importer(fmt).source_kind)
    path = BUILDERS[fmt](tmp_path)
    # A batch size of 2 makes every sample span several transactions.
    run = partial(
        import_file,
        runtime=runtime,
        actor=actor,
        stream_id=stream_id,
        fmt=fmt,
        path=path,
        batch_size=2,
    )

    first = await run()
    assert first.created > 0
    assert first.invalid == 0, first.samples
    assert count_rows(db_url, stream_id) == first.created

    second = await run()
    assert second.created == 0
    assert second.duplicates == first.created + first.duplicates
    assert second.skipped == first.skipped
    assert count_rows(db_url, stream_id) == first.created


async def test_stored_items_read_back_as_imported(runtime: CoreRuntime, tmp_path: Path) -> None:
    actor = await make_user(runtime, "ada@example.com")
    stream_id = await make_stream(runtime, actor, "email")
    path = samples.write_mbox(tmp_path)
    await import_file(runtime=runtime, actor=actor, stream_id=stream_id, fmt="mbox", path=path)

    async with runtime.db.transaction(actor.user_id) as uow:
        page, _ = await captures.page_captures(
            uow=uow, actor=actor, crypto=runtime.capture_crypto, first=10, after=None
        )
    expected = list(get_importer("mbox").iter_items(path))
    assert {(c.external_id, c.title, c.occurred_at) for c in page} == {
        (i.external_id, i.title, i.occurred_at) for i in expected
    }


class Interrupt(Exception):
    """Stands in for Ctrl-C after the first committed batch."""


class StopAfterFirstBatch:
    def start(self, total: int | None) -> None:
        pass

    def advance(self, units: int) -> None:
        pass

    def batch_done(self, report: ImportReport) -> None:
        raise Interrupt


async def test_interrupted_import_resumes_without_duplicates(
    runtime: CoreRuntime, db_url: str, tmp_path: Path
) -> None:
    actor = await make_user(runtime, "ada@example.com")
    stream_id = await make_stream(runtime, actor, "calendar")
    path = samples.write_ics(tmp_path)
    run = partial(
        import_file, runtime=runtime, actor=actor, stream_id=stream_id, fmt="ics", path=path
    )

    with pytest.raises(Interrupt):
        await run(batch_size=3, progress=StopAfterFirstBatch())
    assert count_rows(db_url, stream_id) == 3  # the first batch committed

    resumed = await run(batch_size=3)
    total = len(list(get_importer("ics").iter_items(path)))
    assert total > 3
    assert resumed.duplicates == 3
    assert resumed.created == total - 3
    assert count_rows(db_url, stream_id) == total


async def test_in_batch_repeats_count_as_duplicates(
    runtime: CoreRuntime, db_url: str, tmp_path: Path
) -> None:
    actor = await make_user(runtime, "ada@example.com")
    stream_id = await make_stream(runtime, actor, "ebook")
    entries = samples.KINDLE_ENTRIES
    path = tmp_path / "My Clippings.txt"
    path.write_text(samples.kindle_text([*entries, entries[0], entries[0]]), encoding="utf-8")

    report = await import_file(
        runtime=runtime, actor=actor, stream_id=stream_id, fmt="kindle", path=path
    )
    assert report.duplicates == 2
    assert count_rows(db_url, stream_id) == report.created


def grant(db_url: str, stream_id: uuid.UUID, owner: Actor, grantee: Actor, role: str) -> None:
    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute(
            "INSERT INTO grants (owner_id, stream_id, grantee_id, role) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (stream_id, grantee_id, persona_share_id) WHERE grantee_id IS NOT NULL"
            " DO UPDATE SET role = EXCLUDED.role",
            (owner.user_id, stream_id, grantee.user_id, role),
        )


async def test_acting_user_and_stream_access(
    runtime: CoreRuntime, db_url: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="No users yet"):
        await resolve_actor(runtime.system_db, None)
    ada = await make_user(runtime, "ada@example.com")
    assert await resolve_actor(runtime.system_db, None) == Actor(user_id=ada.user_id, via="cli")
    bob = await make_user(runtime, "bob@example.com")
    with pytest.raises(BadInput, match="--as EMAIL"):
        await resolve_actor(runtime.system_db, None)
    assert (await resolve_actor(runtime.system_db, "BOB@example.com")).user_id == bob.user_id
    with pytest.raises(NotFound):
        await resolve_actor(runtime.system_db, "eve@example.com")

    adas_stream = await make_stream(runtime, ada)
    path = samples.write_mbox(tmp_path)
    run = partial(import_file, runtime=runtime, stream_id=adas_stream, fmt="mbox", path=path)
    with pytest.raises(NotFound, match="Stream not found"):
        await run(actor=bob)
    grant(db_url, adas_stream, ada, bob, "VIEWER")
    with pytest.raises(Forbidden, match="VIEWER"):
        await run(actor=bob)
    grant(db_url, adas_stream, ada, bob, "COLLABORATOR")
    assert (await run(actor=bob)).created == 3
    with pytest.raises(BadInput, match="batch size"):
        await run(actor=ada, batch_size=10**6)


# ------------------------------------------------------------ the command


def cli_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIFEOS_", "CLERK_", "OPENAI_", "PINECONE_", "REDIS_"))
    }
    env.update(DATABASE_URL=db_url, LIFEOS_DATA_DIR=str(data_dir), **extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lifeos_gql.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
    )


def run_cli_in_pty(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run the command on a pseudo-terminal; return (exit code, what it drew)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "lifeos_gql.cli", *args],
        env={**env, "TERM": "xterm-256color", "COLUMNS": "120"},
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return process.wait(timeout=30), out.decode(errors="replace")


async def cli_setup(settings: Settings, tmp_path: Path, email: str) -> tuple[str, Path]:
    async with open_runtime(settings) as rt:
        actor = await make_user(rt, email)
        stream_id = await make_stream(rt, actor, "email")
    return encode_global_id("Stream", stream_id), samples.write_mbox(tmp_path)


async def test_cli_imports_and_reports(
    settings: Settings, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    stream, path = await cli_setup(settings, tmp_path, "ada@example.com")
    env = cli_env(db_url, data_dir)
    args = ["import", "mbox", str(path), "--stream", stream, "--as", "ada@example.com"]

    first = await asyncio.to_thread(run_cli, args, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3 created, 0 duplicates, 0 invalid, 0 skipped" in first.stdout
    again = await asyncio.to_thread(run_cli, args[:-2], env, tmp_path)  # the only user
    assert again.returncode == 0, again.stderr
    assert "0 created, 3 duplicates" in again.stdout

    other = encode_global_id("Stream", uuid.uuid4())
    missing = await asyncio.to_thread(
        run_cli, ["import", "mbox", str(path), "--stream", other], env, tmp_path
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == "lifeos-gql: Stream not found"
    unknown = await asyncio.to_thread(
        run_cli, ["import", "docx", str(path), "--stream", stream], env, tmp_path
    )
    assert unknown.returncode == 2
    assert "valid formats: apple-health, chat-json" in unknown.stderr


async def test_progress_bar_only_on_a_terminal(
    settings: Settings, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    stream, path = await cli_setup(settings, tmp_path, "ada@example.com")
    env = cli_env(db_url, data_dir)
    args = ["import", "mbox", str(path), "--stream", stream]

    code, drawn = await asyncio.to_thread(run_cli_in_pty, args, env, tmp_path)
    assert code == 0, drawn
    assert "100%" in drawn
    assert "━" in drawn  # the bar itself
    assert path.name in drawn

    piped = await asyncio.to_thread(run_cli, args, env, tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert "0 created, 3 duplicates" in piped.stdout
    assert "%" not in piped.stdout + piped.stderr
    assert "━" not in piped.stdout + piped.stderr

    code, drawn = await asyncio.to_thread(run_cli_in_pty, [*args, "--no-progress"], env, tmp_path)
    assert code == 0, drawn
    assert "0 created, 3 duplicates" in drawn
    assert "━" not in drawn
