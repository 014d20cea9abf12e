"""``lifeos-gql rotate-master-key``: data keys move from key A to key B.

Captures are written under master key A; the command (a real subprocess)
re-wraps every data key under B with A listed as previous; afterwards a
runtime that knows ONLY key B still decrypts everything.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from lifeos_gql.bootstrap import open_runtime
from lifeos_gql.core.actor import Actor
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.domains.captures import repository as capture_rows
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureDraft, IngestStatus
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import SourceKind
from lifeos_gql.domains.users import service as users
from lifeos_gql.infra.crypto.master_keys import master_key_id
from tests.conftest import make_settings

KEY_A = os.urandom(32)
KEY_B = os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


async def capture_with_key_a(
    db_url: str, data_dir: Path, emails: list[str]
) -> dict[uuid.UUID, tuple[str, str]]:
    """One user per email, two captures each; returns id -> (title, content)."""
    settings = make_settings(
        database_url=db_url, lifeos_data_dir=data_dir, lifeos_master_key=b64(KEY_A)
    )
    written: dict[uuid.UUID, tuple[str, str]] = {}
    async with open_runtime(settings) as rt:
        for email in emails:
            async with rt.system_db.transaction() as uow:
                user, _ = await users.provision_user(
                    uow=uow, subject=f"test|{email}", email=email, name=None
                )
            actor = Actor(user_id=user.id, via="test")
            async with rt.db.transaction(user.id) as uow:
                stream = await streams.create_stream(
                    uow=uow, actor=actor, name="Journal", source=SourceKind.NOTE
                )
                drafts = [
                    CaptureDraft(
                        stream_id=stream.id,
                        occurred_at=datetime(2024, 3, day, tzinfo=UTC),
                        title=f"Day {day} of {email}",
                        content=f"Walked by the river; thought about {email}'s garden.",
                        data={"mood": day},
                    )
                    for day in (1, 2)
                ]
                outcomes = await captures.ingest(
                    uow=uow,
                    actor=actor,
                    crypto=rt.capture_crypto,
                    limits=rt.capture_limits,
                    drafts=drafts,
                )
            for draft, outcome in zip(drafts, outcomes, strict=True):
                assert outcome.status is IngestStatus.CREATED and outcome.capture is not None
                assert draft.title is not None and draft.content is not None
                written[outcome.capture.id] = (draft.title, draft.content)
    return written


def rotate(
    db_url: str, data_dir: Path, *, current: bytes, previous: list[bytes]
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIFEOS_", "CLERK_", "OPENAI_", "PINECONE_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=db_url,
        LIFEOS_DATA_DIR=str(data_dir),
        LIFEOS_MASTER_KEY=b64(current),
        LIFEOS_PREVIOUS_MASTER_KEYS=",".join(b64(k) for k in previous),
    )
    return subprocess.run(
        [sys.executable, "-m", "lifeos_gql.cli", "rotate-master-key", "--batch-size", "1"],
        env=env,
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=90,
    )


def wrapping_key_ids(db_url: str) -> list[str]:
    with psycopg.connect(libpq_url(db_url)) as conn:
        rows = conn.execute("SELECT master_key_id FROM data_keys ORDER BY owner_id").fetchall()
    return [row[0] for row in rows]


async def test_rotation_moves_every_data_key_to_the_new_master_key(
    db_url: str, data_dir: Path
) -> None:
    written = await capture_with_key_a(db_url, data_dir, ["ada@example.com", "bob@example.com"])
    assert wrapping_key_ids(db_url) == [master_key_id(KEY_A)] * 2

    done = await asyncio.to_thread(rotate, db_url, data_dir, current=KEY_B, previous=[KEY_A])
    assert done.returncode == 0, done.stderr
    assert f"master key {master_key_id(KEY_B)}: scanned 2, rewrapped 2" in done.stdout
    assert "failed 0" in done.stdout
    assert wrapping_key_ids(db_url) == [master_key_id(KEY_B)] * 2

    again = await asyncio.to_thread(rotate, db_url, data_dir, current=KEY_B, previous=[KEY_A])
    assert again.returncode == 0, again.stderr
    assert "scanned 0, rewrapped 0" in again.stdout

    only_b = make_settings(
        database_url=db_url, lifeos_data_dir=data_dir, lifeos_master_key=b64(KEY_B)
    )
    async with open_runtime(only_b) as rt:
        async with rt.system_db.transaction() as uow:
            rows = await capture_rows.get_many(uow, list(written))
        records = await captures.decrypt_rows(rt.capture_crypto, rows)
    assert {r.id: (r.title, r.content) for r in records} == written


async def test_keys_under_an_unconfigured_master_key_fail_and_stay(
    db_url: str, data_dir: Path
) -> None:
    await capture_with_key_a(db_url, data_dir, ["ada@example.com"])

    result = await asyncio.to_thread(rotate, db_url, data_dir, current=KEY_B, previous=[])
    assert result.returncode == 1
    assert "scanned 1, rewrapped 0, skipped 0, failed 1" in result.stdout
    assert "LIFEOS_PREVIOUS_MASTER_KEYS is empty" in result.stderr
    assert "failed " in result.stderr
    assert wrapping_key_ids(db_url) == [master_key_id(KEY_A)]
