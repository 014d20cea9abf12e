"""Pure parts of the privacy domain: download-link signing, erasure confirmation, receipts."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
import zipfile
from datetime import UTC, datetime

import pytest

from lifeos_gql.domains.privacy.archive import (
    CHUNK_BYTES,
    ArchiveWriter,
    chunk_aad,
    file_digest,
    sealed_chunks,
)
from lifeos_gql.domains.privacy.erasure import _confirmed, canonical_receipt, expected_confirmation
from lifeos_gql.domains.privacy.models import TableCount
from lifeos_gql.domains.privacy.signed_urls import LinkError, UrlSigner
from lifeos_gql.infra.crypto.errors import DecryptionError
from lifeos_gql.infra.crypto.fields import FieldCipher

NOW = 1_800_000_000.0


def reason(signer: UrlSigner, ref: str, expires: str | None, sig: str | None) -> str:
    with pytest.raises(LinkError) as caught:
        signer.check(ref, expires, sig, now=NOW)
    return caught.value.reason


def test_links_verify_only_unchanged_and_unexpired() -> None:
    signer = UrlSigner.from_master_key(os.urandom(32))
    expires, sig = signer.sign("RXhwb3J0OjE", now=NOW)
    assert expires == int(NOW) + 15 * 60
    signer.check("RXhwb3J0OjE", str(expires), sig, now=NOW)
    signer.check("RXhwb3J0OjE", str(expires), sig.upper(), now=NOW)  # hex is case-blind
    assert reason(signer, "RXhwb3J0OjI", str(expires), sig) == "bad_signature"
    assert reason(signer, "RXhwb3J0OjE", str(expires + 1), sig) == "bad_signature"
    assert reason(signer, "RXhwb3J0OjE", None, sig) == "malformed_link"
    assert reason(signer, "RXhwb3J0OjE", "-5", sig) == "malformed_link"
    assert reason(signer, "RXhwb3J0OjE", str(expires), "") == "malformed_link"
    other = UrlSigner.from_master_key(os.urandom(32))
    assert reason(other, "RXhwb3J0OjE", str(expires), sig) == "bad_signature"
    with pytest.raises(LinkError) as late:
        signer.check("RXhwb3J0OjE", str(expires), sig, now=NOW + 15 * 60 + 1)
    assert late.value.reason == "link_expired"


def test_url_carries_expiry_and_signature() -> None:
    signer = UrlSigner.from_master_key(b"k" * 32)
    url = signer.url("https://lifeos.test/", "abc", now=NOW)
    expires, sig = signer.sign("abc", now=NOW)
    assert url == f"https://lifeos.test/v1/exports/abc?expires={expires}&sig={sig}"


def test_erasure_confirmation() -> None:
    user = uuid.uuid4()
    assert expected_confirmation("ada@x.test", user) == "ERASE ada@x.test"
    assert _confirmed("  ERASE  Ada@X.test ", "ada@x.test", user)
    assert not _confirmed("erase ada@x.test", "ada@x.test", user)
    assert not _confirmed("ERASE bob@x.test", "ada@x.test", user)
    assert not _confirmed("ERASE", "ada@x.test", user)
    assert _confirmed(f"ERASE {user}", None, user)


def test_receipt_digest_is_canonical() -> None:
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    a = canonical_receipt("p_x", at, [TableCount("users", 1), TableCount("captures", 3)])
    b = canonical_receipt("p_x", at, [TableCount("captures", 3), TableCount("users", 1)])
    assert a == b
    assert json.loads(a) == {
        "counts": [["captures", 3], ["users", 1]],
        "erasedAt": "2026-11-25T12:00:00.000000+00:00",
        "pseudonym": "p_x",
    }
    assert (
        hashlib.sha256(a).digest()
        != hashlib.sha256(canonical_receipt("p_y", at, [TableCount("captures", 3)])).digest()
    )


def test_archive_chunks_are_bound_to_export_position_and_end() -> None:
    handle = io.BytesIO()
    archive = ArchiveWriter(handle)
    with archive.json_array("items.json") as out:
        out.write_all({"n": n, "id": uuid.uuid4()} for n in range(3))
    archive.close()
    size, _sha = file_digest(handle)
    cipher, key, export_id = FieldCipher(), os.urandom(32), uuid.uuid4()
    chunks = list(sealed_chunks(handle, cipher, key, export_id, size))
    assert [seq for seq, _ in chunks] == [0]
    plain = cipher.decrypt(key, chunks[0][1], aad=chunk_aad(export_id, 0, last=True))
    assert [i["n"] for i in json.loads(zipfile.ZipFile(io.BytesIO(plain)).read("items.json"))] == [
        0,
        1,
        2,
    ]
    assert archive.counts == {"items.json": 3}
    with pytest.raises(DecryptionError):  # a truncated archive cannot pass as complete
        cipher.decrypt(key, chunks[0][1], aad=chunk_aad(export_id, 0, last=False))
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, chunks[0][1], aad=chunk_aad(uuid.uuid4(), 0, last=True))


@pytest.mark.parametrize("size", [0, CHUNK_BYTES, 2 * CHUNK_BYTES + 5])
def test_chunking_covers_the_file_and_marks_only_the_last(size: int) -> None:
    data = os.urandom(size)
    cipher, key, export_id = FieldCipher(), os.urandom(32), uuid.uuid4()
    chunks = list(sealed_chunks(io.BytesIO(data), cipher, key, export_id, size))
    last = len(chunks) - 1
    plain = b"".join(
        cipher.decrypt(key, sealed, aad=chunk_aad(export_id, seq, last=seq == last))
        for seq, sealed in chunks
    )
    assert plain == data and len(chunks) == max(1, -(-size // CHUNK_BYTES))
