"""Audit chain hashing and verification, pseudonym helpers, failure aggregation (no I/O)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lifeos_gql.domains.audit.auth_failures import AuthFailureLog
from lifeos_gql.domains.audit.chain import (
    ChainVerifier,
    Head,
    StoredRow,
    canonical_details,
    row_hash,
)
from lifeos_gql.domains.audit.pseudonyms import new_pseudonym, replace_ids, uuids_in

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_chain(n: int, chain_id: str = "user:p_x") -> list[StoredRow]:
    rows: list[StoredRow] = []
    prev: bytes | None = None
    for seq in range(1, n + 1):
        fields: dict[str, Any] = {
            "chain_id": chain_id,
            "seq": seq,
            "occurred_at": T0 + timedelta(seconds=seq),
            "actor": "p_actor",
            "action": "stream.create",
            "target_type": "Stream",
            "target_id": str(uuid.UUID(int=seq)),
            "details": {"count": seq, "ids": ["a", "b"]},
            "prev_hash": prev,
        }
        digest = row_hash(**fields)
        rows.append(StoredRow(**fields, row_hash=digest))
        prev = digest
    return rows


def verify(rows: list[StoredRow], head: Head | None) -> tuple[bool, int | None, str | None]:
    verifier = ChainVerifier("user:p_x", head)
    for row in rows:
        verifier.feed(row)
    report = verifier.finish()
    assert report.rows == len(rows)
    return report.ok, report.bad_seq, report.reason


def head_of(rows: list[StoredRow]) -> Head:
    return Head(rows[-1].seq, rows[-1].row_hash)


def test_hash_is_canonical_across_time_zones_and_key_order() -> None:
    rows = make_chain(1)
    row = rows[0]
    elsewhere = row.occurred_at.astimezone(timezone(timedelta(hours=5, minutes=30)))
    shuffled = dict(reversed(list(row.details.items())))
    again = dataclasses.replace(row, occurred_at=elsewhere, details=shuffled)
    assert again.recomputed_hash() == row.row_hash
    assert dataclasses.replace(row, action="stream.delete").recomputed_hash() != row.row_hash


def test_details_are_hashed_as_jsonb_returns_them() -> None:
    user = uuid.uuid4()
    assert canonical_details(
        {"id": user, "at": T0, "big": 1e20, "tiny": 1.5e-7, "three": 3.0, "n": [2**60]}
    ) == {
        "id": str(user),
        "at": "2026-11-25T12:00:00+00:00",
        "big": 10**20,
        "tiny": 1.5e-7,
        "three": 3.0,
        "n": [2**60],
    }


def test_intact_chain_verifies() -> None:
    rows = make_chain(5)
    assert verify(rows, head_of(rows)) == (True, None, None)


def test_altered_detail_fails_at_that_seq() -> None:
    rows = make_chain(5)
    rows[2] = dataclasses.replace(rows[2], details={"count": 999, "ids": ["a", "b"]})
    ok, bad, reason = verify(rows, head_of(rows))
    assert (ok, bad) == (False, 3)
    assert reason is not None and "altered" in reason


def test_removed_middle_row_fails_at_the_gap() -> None:
    rows = make_chain(5)
    head = head_of(rows)
    del rows[1]
    ok, bad, reason = verify(rows, head)
    assert (ok, bad) == (False, 2)
    assert reason is not None and "missing" in reason


def test_removed_last_row_is_caught_by_the_head() -> None:
    rows = make_chain(5)
    head = head_of(rows)
    ok, bad, reason = verify(rows[:-1], head)
    assert (ok, bad) == (False, 5)
    assert reason is not None and "head is at seq 5" in reason


def test_swapped_rows_fail() -> None:
    rows = make_chain(4)
    a, b = rows[1], rows[2]
    # Swap contents but keep the seq order, as a reordering attacker would.
    rows[1] = dataclasses.replace(b, seq=2)
    rows[2] = dataclasses.replace(a, seq=3)
    ok, bad, _ = verify(rows, head_of(make_chain(4)))
    assert (ok, bad) == (False, 2)


def test_renumbered_rows_after_a_removal_fail() -> None:
    rows = make_chain(4)
    renumbered = [rows[0]] + [dataclasses.replace(r, seq=r.seq - 1) for r in rows[2:]]
    ok, bad, reason = verify(renumbered, Head(3, rows[-1].row_hash))
    assert (ok, bad) == (False, 2)
    assert reason is not None and "prev_hash" in reason


def test_head_problems_fail() -> None:
    rows = make_chain(3)
    assert verify(rows, None)[:2] == (False, 3)
    assert verify(rows, Head(3, b"\0" * 32))[:2] == (False, 3)
    assert verify(rows, Head(2, rows[1].row_hash))[:2] == (False, 3)
    assert verify([], Head(3, rows[-1].row_hash))[:2] == (False, 1)


def test_pseudonyms_are_random_and_well_formed() -> None:
    made = {new_pseudonym() for _ in range(200)}
    assert len(made) == 200
    assert all(re.fullmatch(r"p_[0-9a-f]{32}", p) for p in made)


def test_user_ids_are_found_and_replaced_anywhere_in_details() -> None:
    alice, bob, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    details = {
        "granteeId": str(alice),
        "nested": {"ids": [str(bob).upper(), str(other)], "n": 3},
        "note": f"not-a-bare-id {alice}",
    }
    assert uuids_in(details) == {alice, bob, other}
    replaced = replace_ids(details, {alice: "p_a", bob: "p_b"})
    assert replaced == {
        "granteeId": "p_a",
        "nested": {"ids": ["p_b", str(other)], "n": 3},
        "note": f"not-a-bare-id {alice}",
    }


def test_failure_counts_stay_bounded() -> None:
    failures = AuthFailureLog(db=None, max_sources=3)  # type: ignore[arg-type]
    for i in range(1000):
        failures.note("invalid_signature", f"10.0.0.{i % 50}")
    failures.note("expired", "10.0.0.1")
    assert failures.pending == 1001
    assert len(failures._counts) == 3  # the rest only adds to one number


@pytest.mark.parametrize("reason", ["", "x" * 500])
def test_failure_keys_are_clipped(reason: str) -> None:
    failures = AuthFailureLog(db=None)  # type: ignore[arg-type]
    failures.note(reason, "2001:db8::" + "f" * 200)
    [(key_reason, key_ip)] = failures._counts
    assert 1 <= len(key_reason) <= 64 and len(key_ip) <= 64
