"""``lifeos-gql audit verify`` (a real subprocess) against tampered chains.

Tampering needs a superuser who switches the append-only trigger off
(``ALTER TABLE audit_log DISABLE TRIGGER …``), exactly what an attacker
with the database would do; verify must still notice.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg

from lifeos_gql.bootstrap import open_runtime
from lifeos_gql.config import Settings
from lifeos_gql.db import migrate
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.audit.chain import row_hash
from lifeos_gql.domains.users import service as users

ROWS_PER_CHAIN = 4


async def make_history(settings: Settings, people: list[str]) -> dict[str, str]:
    """``ROWS_PER_CHAIN`` rows in each person's chain; returns name -> chain id."""
    chains: dict[str, str] = {}
    async with open_runtime(settings) as rt:
        for name in people:
            async with rt.system_db.transaction() as uow:
                user, _ = await users.provision_user(
                    uow=uow, subject=f"test|{name}", email=f"{name}@example.com", name=None
                )
            for n in range(ROWS_PER_CHAIN):
                async with rt.system_db.transaction(user.id) as uow:
                    await audit.record(
                        uow=uow,
                        owner_id=user.id,
                        action="stream.create",
                        target_type="Stream",
                        target_id=str(uuid.uuid4()),
                        details={"n": n, "role": "OWNER"},
                    )
            async with rt.system_db.transaction() as uow:
                chains[name] = audit.chain_of(await audit.pseudonym_for(uow, user.id))
    return chains


def run_verify(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIFEOS_", "CLERK_", "OPENAI_", "PINECONE_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=str(settings.database_url), LIFEOS_DATA_DIR=str(settings.lifeos_data_dir)
    )
    return subprocess.run(
        [sys.executable, "-m", "lifeos_gql.cli", "audit", "verify", *args],
        env=env,
        cwd=Path(settings.lifeos_data_dir).parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tamper(db_url: str, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Run statements as the superuser with the audit triggers switched off."""
    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for sql, params in statements:
            conn.execute(sql, params)  # type: ignore[arg-type]
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def test_verify_passes_then_names_each_tampered_chain_and_seq(settings: Settings) -> None:
    people = ["altered", "middle", "last", "swapped", "intact"]
    chains = await make_history(settings, people)

    clean = await asyncio.to_thread(run_verify, settings)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for chain in chains.values():
        assert f"OK      {chain} ({ROWS_PER_CHAIN} rows)" in clean.stdout
    assert f"{len(people)} chains checked, 0 failed" in clean.stdout

    tamper(
        str(settings.database_url),
        (
            "UPDATE audit_log SET details = jsonb_set(details, '{role}', '\"VIEWER\"')"
            " WHERE chain_id = %s AND seq = 2",
            (chains["altered"],),
        ),
        ("DELETE FROM audit_log WHERE chain_id = %s AND seq = 2", (chains["middle"],)),
        ("DELETE FROM audit_log WHERE chain_id = %s AND seq = %s", (chains["last"], 4)),
        # Reorder: rows 2 and 3 trade places (through a free seq: seq is unique).
        ("UPDATE audit_log SET seq = -2 WHERE chain_id = %s AND seq = 2", (chains["swapped"],)),
        ("UPDATE audit_log SET seq = 2 WHERE chain_id = %s AND seq = 3", (chains["swapped"],)),
        ("UPDATE audit_log SET seq = 3 WHERE chain_id = %s AND seq = -2", (chains["swapped"],)),
    )

    found = await asyncio.to_thread(run_verify, settings)
    assert found.returncode == 1, found.stdout + found.stderr
    lines = found.stdout.splitlines()

    def line_of(chain: str) -> str:
        [line] = [ln for ln in lines if f" {chain} " in ln]
        return line

    assert line_of(chains["altered"]).startswith(f"FAILED  {chains['altered']} at seq 2: ")
    assert "altered" in line_of(chains["altered"])
    assert line_of(chains["middle"]).startswith(f"FAILED  {chains['middle']} at seq 2: ")
    assert "missing" in line_of(chains["middle"])
    assert line_of(chains["last"]).startswith(f"FAILED  {chains['last']} at seq 4: ")
    assert "head is at seq 4" in line_of(chains["last"])
    assert line_of(chains["swapped"]).startswith(f"FAILED  {chains['swapped']} at seq 2: ")
    assert line_of(chains["intact"]).startswith(f"OK      {chains['intact']}")
    assert f"{len(people)} chains checked, 4 failed" in found.stdout

    one = await asyncio.to_thread(run_verify, settings, "--chain", chains["intact"], "--quiet")
    assert one.returncode == 0, one.stdout + one.stderr
    assert one.stdout.strip() == "audit verify: 1 chains checked, 0 failed"
    unknown = await asyncio.to_thread(run_verify, settings, "--chain", "user:p_nobody")
    assert unknown.returncode == 2
    assert "no audit chain 'user:p_nobody'" in unknown.stderr


async def test_a_rolled_back_head_or_a_wiped_chain_fails(settings: Settings) -> None:
    chains = await make_history(settings, ["rolled", "wiped"])
    with psycopg.connect(libpq_url(str(settings.database_url))) as conn:
        conn.execute("ALTER TABLE audit_heads DISABLE TRIGGER USER")
        # Remove the newest row and move the head back over it, both by hand.
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(
            "DELETE FROM audit_log WHERE chain_id = %s AND seq = %s",
            (chains["rolled"], ROWS_PER_CHAIN),
        )
        conn.execute(
            "UPDATE audit_heads SET last_seq = last_seq - 1 WHERE chain_id = %s",
            (chains["rolled"],),
        )
        conn.execute("DELETE FROM audit_log WHERE chain_id = %s", (chains["wiped"],))
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE audit_heads ENABLE TRIGGER USER")

    found = await asyncio.to_thread(run_verify, settings, "--quiet")
    assert found.returncode == 1
    assert f"FAILED  {chains['rolled']} at seq {ROWS_PER_CHAIN - 1}: head hash" in found.stdout
    assert f"FAILED  {chains['wiped']} at seq 1: rows missing" in found.stdout


async def test_chains_written_before_pseudonyms_verify_after_the_migration(
    empty_db_url: str,
) -> None:
    """Revision 0010 gives chains that already existed a head from their last row."""
    migrate.upgrade(empty_db_url, "0009")
    legacy = f"user:{uuid.uuid4()}"
    prev: bytes | None = None
    with psycopg.connect(libpq_url(empty_db_url)) as conn:
        for seq in (1, 2, 3):
            at = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
            digest = row_hash(
                chain_id=legacy,
                seq=seq,
                occurred_at=at,
                actor=None,
                action="stream.create",
                target_type=None,
                target_id=None,
                details={},
                prev_hash=prev,
            )
            conn.execute(
                "INSERT INTO audit_log (chain_id, seq, occurred_at, action, prev_hash, row_hash)"
                " VALUES (%s, %s, %s, 'stream.create', %s, %s)",
                (legacy, seq, at, prev, digest),
            )
            prev = digest
    migrate.upgrade(empty_db_url)
    with psycopg.connect(libpq_url(empty_db_url)) as conn:
        head = conn.execute(
            "SELECT last_seq, last_hash FROM audit_heads WHERE chain_id = %s", (legacy,)
        ).fetchone()
    assert head == (3, prev)

    from lifeos_gql.db.engine import create_engine
    from lifeos_gql.db.uow import Database

    db = Database(create_engine(empty_db_url, pool_size=1))
    try:
        reports = [r async for r in audit.verify_chains(db)]
    finally:
        await db.dispose()
    assert [(r.chain_id, r.rows, r.ok) for r in reports] == [(legacy, 3, True)]
