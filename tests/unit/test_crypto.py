"""Encryption at rest: field cipher, key wrapping, key service, rotation, master keys."""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import re
import stat
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.crypto import (
    DataKeyCache,
    DecryptionError,
    FieldCipher,
    InMemoryDataKeyStore,
    KeyService,
    MasterKeyring,
    RotationReport,
    UnknownMasterKeyError,
    WrappedKey,
    field_aad,
    master_key_id,
    new_data_key,
    rewrap,
    rotate_all,
    unwrap_data_key,
    wrap_data_key,
)
from lifeos_gql.infra.crypto.master_keys import load_or_create_dev_key


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher()


# --- field cipher -----------------------------------------------------------


def test_round_trips_bytes_text_and_json(cipher: FieldCipher) -> None:
    key, row = new_data_key(), uuid.uuid4()
    aad = field_aad("captures.content", row)
    assert cipher.decrypt(key, cipher.encrypt(key, b"\x00raw", aad=aad), aad=aad) == b"\x00raw"
    assert cipher.decrypt(key, cipher.encrypt(key, b"", aad=aad), aad=aad) == b""
    text = "Met Zoë in Kraków — ☕ notes"
    assert cipher.decrypt_text(key, cipher.encrypt_text(key, text, aad=aad), aad=aad) == text
    payload = {"from": "a@b.c", "tags": ["x", 1, None], "n": {"deep": 1.5}}
    assert cipher.decrypt_json(key, cipher.encrypt_json(key, payload, aad=aad), aad=aad) == payload


def test_format_is_versioned_and_nonces_are_fresh(cipher: FieldCipher) -> None:
    key, aad = new_data_key(), field_aad("captures.content", uuid.uuid4())
    first = cipher.encrypt(key, b"same text", aad=aad)
    second = cipher.encrypt(key, b"same text", aad=aad)
    assert first[0] == 1
    assert len(first) == 1 + 12 + len(b"same text") + 16
    assert first[1:13] != second[1:13]
    assert first != second


@pytest.mark.parametrize(
    "index", [0, 1, 12, 13, -1], ids=["version", "nonce-start", "nonce-end", "body", "tag"]
)
def test_tampered_ciphertext_fails(cipher: FieldCipher, index: int) -> None:
    key, aad = new_data_key(), field_aad("captures.content", uuid.uuid4())
    token = cipher.encrypt(key, b"private thought", aad=aad)
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, _flip(token, index % len(token)), aad=aad)


def test_truncated_ciphertext_and_wrong_key_fail(cipher: FieldCipher) -> None:
    key, aad = new_data_key(), field_aad("captures.content", uuid.uuid4())
    token = cipher.encrypt(key, b"private thought", aad=aad)
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, token[:20], aad=aad)
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, token[:-1], aad=aad)
    with pytest.raises(DecryptionError):
        cipher.decrypt(new_data_key(), token, aad=aad)


def test_ciphertext_cannot_move_to_another_row_or_column(cipher: FieldCipher) -> None:
    key = new_data_key()
    row_a, row_b = uuid.uuid4(), uuid.uuid4()
    token = cipher.encrypt_text(key, "row A's secret", aad=field_aad("captures.content", row_a))
    with pytest.raises(DecryptionError):
        cipher.decrypt_text(key, token, aad=field_aad("captures.content", row_b))
    with pytest.raises(DecryptionError):
        cipher.decrypt_text(key, token, aad=field_aad("captures.raw", row_a))
    assert cipher.decrypt_text(key, token, aad=field_aad("captures.content", row_a)) == (
        "row A's secret"
    )


def test_cipher_keeps_working_past_its_key_cache_bound() -> None:
    cipher = FieldCipher(max_keys=2)
    keys = [new_data_key() for _ in range(5)]
    aad = field_aad("captures.content", uuid.uuid4())
    tokens = [cipher.encrypt(key, bytes([i]), aad=aad) for i, key in enumerate(keys)]
    assert [cipher.decrypt(key, t, aad=aad) for key, t in zip(keys, tokens)] == [
        bytes([i]) for i in range(5)
    ]


# --- data key wrapping ------------------------------------------------------


def test_wrap_round_trip_and_format() -> None:
    ring = MasterKeyring(os.urandom(32))
    owner, data_key = uuid.uuid4(), new_data_key()
    wrapped = wrap_data_key(ring, data_key, owner_id=owner)
    assert wrapped.master_key_id == ring.current.key_id
    assert len(wrapped.blob) == 61 and wrapped.blob[0] == 1
    assert data_key not in wrapped.blob
    assert unwrap_data_key(ring, wrapped, owner_id=owner) == data_key


def test_wrapped_key_of_owner_a_does_not_unwrap_for_owner_b() -> None:
    ring = MasterKeyring(os.urandom(32))
    wrapped = wrap_data_key(ring, new_data_key(), owner_id=uuid.uuid4())
    with pytest.raises(DecryptionError):
        unwrap_data_key(ring, wrapped, owner_id=uuid.uuid4())


def test_tampered_or_relabelled_wrapped_key_fails() -> None:
    old, new = os.urandom(32), os.urandom(32)
    ring = MasterKeyring(new, [old])
    owner = uuid.uuid4()
    wrapped = wrap_data_key(ring, new_data_key(), owner_id=owner)
    with pytest.raises(DecryptionError):
        unwrap_data_key(
            ring, WrappedKey(wrapped.master_key_id, _flip(wrapped.blob, 30)), owner_id=owner
        )
    with pytest.raises(DecryptionError):
        unwrap_data_key(ring, WrappedKey(master_key_id(old), wrapped.blob), owner_id=owner)
    with pytest.raises(UnknownMasterKeyError):
        unwrap_data_key(MasterKeyring(old), wrapped, owner_id=owner)


def test_rewrap_moves_to_current_key_and_is_a_no_op_when_current() -> None:
    old_raw, new_raw = os.urandom(32), os.urandom(32)
    old_ring = MasterKeyring(old_raw)
    owner, data_key = uuid.uuid4(), new_data_key()
    wrapped = wrap_data_key(old_ring, data_key, owner_id=owner)
    assert rewrap(old_ring, wrapped, owner) is None
    moved = rewrap(MasterKeyring(new_raw, [old_raw]), wrapped, owner)
    assert moved is not None
    assert moved.master_key_id == master_key_id(new_raw) != wrapped.master_key_id
    assert unwrap_data_key(MasterKeyring(new_raw), moved, owner_id=owner) == data_key


# --- key service and crypto-shredding ---------------------------------------


async def test_data_key_is_created_once_and_reused() -> None:
    ring, store = MasterKeyring(os.urandom(32)), InMemoryDataKeyStore()
    owner = uuid.uuid4()
    service = KeyService(ring, store)
    assert await service.data_key_for(owner, create=False) is None
    assert owner not in store.rows
    key = await service.data_key_for(owner, create=True)
    assert key is not None and len(key) == 32
    assert store.rows[owner].master_key_id == ring.current.key_id
    # Another process (own cache) sees the same key through the store.
    assert await KeyService(ring, store).data_key_for(owner, create=False) == key


async def test_racing_creators_agree_on_one_key() -> None:
    class BarrierStore(InMemoryDataKeyStore):
        """Lets both creators read 'absent' before either inserts."""

        def __init__(self) -> None:
            super().__init__()
            self.barrier = asyncio.Barrier(2)

        async def get_wrapped(self, owner_id: uuid.UUID) -> WrappedKey | None:
            found = self.rows.get(owner_id)
            await self.barrier.wait()
            return found

    ring, store, owner = MasterKeyring(os.urandom(32)), BarrierStore(), uuid.uuid4()
    first, second = await asyncio.gather(
        KeyService(ring, store).data_key_for(owner, create=True),
        KeyService(ring, store).data_key_for(owner, create=True),
    )
    assert first == second
    assert unwrap_data_key(ring, store.rows[owner], owner_id=owner) == first


async def test_shred_makes_data_unreadable_and_spares_other_owners(cipher: FieldCipher) -> None:
    ring, store = MasterKeyring(os.urandom(32)), InMemoryDataKeyStore()
    service = KeyService(ring, store, cipher=cipher)
    other_process = KeyService(ring, store)
    alice, bob, row_a, row_b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    alice_key = await service.data_key_for(alice, create=True)
    bob_key = await service.data_key_for(bob, create=True)
    assert alice_key is not None and bob_key is not None
    assert await other_process.data_key_for(alice, create=False) == alice_key
    token_a = cipher.encrypt_text(alice_key, "alice", aad=field_aad("captures.content", row_a))
    token_b = cipher.encrypt_text(bob_key, "bob", aad=field_aad("captures.content", row_b))

    await service.shred(alice)
    other_process.forget(alice)  # what the erasure event does on other processes

    assert alice not in store.rows
    assert await service.data_key_for(alice, create=False) is None
    assert await other_process.data_key_for(alice, create=False) is None
    fresh = await service.data_key_for(alice, create=True)
    assert fresh is not None and fresh != alice_key
    with pytest.raises(DecryptionError):
        cipher.decrypt_text(fresh, token_a, aad=field_aad("captures.content", row_a))
    bob_again = await other_process.data_key_for(bob, create=False)
    assert bob_again is not None
    assert cipher.decrypt_text(bob_again, token_b, aad=field_aad("captures.content", row_b)) == (
        "bob"
    )


async def test_lookup_racing_a_shred_does_not_recache_the_key() -> None:
    class GatedStore(InMemoryDataKeyStore):
        def __init__(self) -> None:
            super().__init__()
            self.entered, self.release = asyncio.Event(), asyncio.Event()

        async def get_wrapped(self, owner_id: uuid.UUID) -> WrappedKey | None:
            found = self.rows.get(owner_id)
            self.entered.set()
            await self.release.wait()
            return found

    ring, store, owner = MasterKeyring(os.urandom(32)), GatedStore(), uuid.uuid4()
    store.rows[owner] = wrap_data_key(ring, new_data_key(), owner_id=owner)
    service = KeyService(ring, store)
    lookup = asyncio.create_task(service.data_key_for(owner, create=False))
    await store.entered.wait()
    await service.shred(owner)
    store.release.set()
    await lookup
    assert service.cache.get(owner) is None
    assert await service.data_key_for(owner, create=False) is None


def test_data_key_cache_is_bounded_expires_and_forgets() -> None:
    now = [0.0]
    cache = DataKeyCache(max_entries=2, ttl_seconds=10, clock=lambda: now[0])
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cache.put(a, b"A" * 32)
    cache.put(b, b"B" * 32)
    assert cache.get(a) == b"A" * 32  # a is now the most recently used
    cache.put(c, b"C" * 32)
    assert len(cache) == 2 and cache.get(b) is None and cache.get(a) == b"A" * 32
    assert cache.forget(a) == b"A" * 32 and cache.get(a) is None
    now[0] = 10.0
    assert cache.get(c) is None and len(cache) == 0


# --- master key rotation ----------------------------------------------------


async def test_rotation_keeps_data_readable_and_rewraps_to_new_key(cipher: FieldCipher) -> None:
    old_raw, new_raw = os.urandom(32), os.urandom(32)
    old_ring, store = MasterKeyring(old_raw), InMemoryDataKeyStore()
    owners = [uuid.uuid4() for _ in range(5)]
    rows: dict[uuid.UUID, tuple[uuid.UUID, bytes]] = {}
    for owner in owners:
        key = await KeyService(old_ring, store).data_key_for(owner, create=True)
        assert key is not None
        row = uuid.uuid4()
        rows[owner] = (
            row,
            cipher.encrypt_json(key, {"o": str(owner)}, aad=field_aad("captures.raw", row)),
        )

    new_ring = MasterKeyring.from_settings(_b64(new_raw), [_b64(old_raw)], Path("unused"), False)
    live = KeyService(new_ring, store)  # a server running during rotation
    brand_new = uuid.uuid4()
    assert await live.data_key_for(brand_new, create=True) is not None
    progress: list[int] = []

    report = await rotate_all(
        new_ring, store, batch_size=2, on_batch=lambda r: progress.append(r.scanned)
    )

    assert report == RotationReport(current_key_id=master_key_id(new_raw), scanned=5, rewrapped=5)
    assert report.complete
    assert progress == [2, 4, 5]
    assert {w.master_key_id for w in store.rows.values()} == {master_key_id(new_raw)}
    retired = KeyService(MasterKeyring(new_raw), store)  # old key dropped after rotation
    for owner, (row, token) in rows.items():
        for service in (live, retired):
            key = await service.data_key_for(owner, create=False)
            assert key is not None
            assert cipher.decrypt_json(key, token, aad=field_aad("captures.raw", row)) == {
                "o": str(owner)
            }
    again = await rotate_all(new_ring, store)
    assert (again.scanned, again.rewrapped) == (0, 0)


async def test_rotation_reports_unreadable_keys_and_skips_concurrent_shreds() -> None:
    lost_raw, old_raw, new_raw = os.urandom(32), os.urandom(32), os.urandom(32)

    class ShreddingStore(InMemoryDataKeyStore):
        """Shreds one owner between rotation's read and its write."""

        victim: uuid.UUID | None = None

        async def list_not_wrapped_by(
            self, master_key_id: str, *, after: uuid.UUID | None, limit: int
        ) -> Sequence[tuple[uuid.UUID, WrappedKey]]:
            batch = await super().list_not_wrapped_by(master_key_id, after=after, limit=limit)
            if self.victim is not None:
                self.rows.pop(self.victim, None)
            return batch

    store = ShreddingStore()
    good, victim, orphan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for owner in (good, victim):
        store.rows[owner] = wrap_data_key(MasterKeyring(old_raw), new_data_key(), owner_id=owner)
    orphan_wrapped = wrap_data_key(MasterKeyring(lost_raw), new_data_key(), owner_id=orphan)
    store.rows[orphan] = orphan_wrapped
    store.victim = victim

    report = await rotate_all(MasterKeyring(new_raw, [old_raw]), store)

    assert (report.scanned, report.rewrapped, report.skipped) == (3, 1, 1)
    assert list(report.failed) == [orphan] and master_key_id(lost_raw) in report.failed[orphan]
    assert not report.complete
    assert victim not in store.rows  # the shred was not undone
    assert store.rows[orphan] == orphan_wrapped
    assert store.rows[good].master_key_id == master_key_id(new_raw)


# --- master keys from settings ----------------------------------------------


def test_key_id_is_short_stable_and_reveals_nothing() -> None:
    raw = os.urandom(32)
    key_id = master_key_id(raw)
    assert len(key_id) == 16 and int(key_id, 16) >= 0
    assert key_id == MasterKeyring(raw).current.key_id
    assert key_id != master_key_id(os.urandom(32))
    assert key_id not in raw.hex() and raw.hex()[:16] != key_id
    ring = MasterKeyring(raw, [raw])
    assert ring.key_ids == (key_id,)
    assert raw.hex() not in repr(ring) + repr(ring.current)


def test_configured_keys_build_the_ring(tmp_path: Path) -> None:
    current, previous = os.urandom(32), os.urandom(32)
    ring = MasterKeyring.from_settings(_b64(current), [_b64(previous)], tmp_path, False)
    assert ring.key_ids == (master_key_id(current), master_key_id(previous))
    assert ring.current.key_id == master_key_id(current)
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize(
    ("current", "previous", "named"),
    [
        ("not base64!", [], "LIFEOS_MASTER_KEY"),
        (_b64(b"short"), [], "LIFEOS_MASTER_KEY"),
        (_b64(os.urandom(32)), [_b64(os.urandom(32)), "bad"], "LIFEOS_PREVIOUS_MASTER_KEYS[1]"),
    ],
)
def test_bad_keys_raise_config_error_naming_the_setting(
    tmp_path: Path, current: str, previous: list[str], named: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)) as caught:
        MasterKeyring.from_settings(current, previous, tmp_path, True)
    assert current not in str(caught.value)  # never echo key material


def test_prod_without_master_key_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LIFEOS_MASTER_KEY"):
        MasterKeyring.from_settings(None, [], tmp_path, False)
    assert list(tmp_path.iterdir()) == []


def test_dev_master_key_is_generated_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / ".lifeos"
    first = MasterKeyring.from_settings(None, [], data_dir, True)
    path = data_dir / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    assert [p.name for p in data_dir.iterdir()] == ["master.key"]  # no temp file left
    second = MasterKeyring.from_settings(None, [], data_dir, True)
    assert second.current.key_id == first.current.key_id


def test_dev_master_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(_b64(os.urandom(32)))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        MasterKeyring.from_settings(None, [], tmp_path, True)


def _create_in_child(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # release all children at once to maximise the race
    results.put(master_key_id(load_or_create_dev_key(Path(path))))


def test_processes_racing_to_create_the_dev_key_agree(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    path = str(tmp_path / "master.key")
    children = [
        ctx.Process(target=_create_in_child, args=(path, barrier, results)) for _ in range(4)
    ]
    for child in children:
        child.start()
    ids = [results.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert len(set(ids)) == 1
    assert ids[0] == master_key_id(load_or_create_dev_key(Path(path)))
