"""Export archives: a zip of JSON files written to a temp file, sealed in chunks.

Writing: :class:`ArchiveWriter` streams JSON arrays element by element into
a zip on disk, so an archive of any size is built in bounded memory.
Sealing: the file is read back in ``CHUNK_BYTES`` pieces, each encrypted with
the owner's data key; the associated data binds a chunk to its export, its
position and whether it is the last one, so chunks cannot be reordered,
swapped between exports or silently truncated.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Final

import orjson

from lifeos_gql.infra.crypto.fields import FieldCipher, field_aad

CHUNK_BYTES: Final = 1024 * 1024
FORMAT_VERSION: Final = 1


def chunk_aad(export_id: Any, seq: int, *, last: bool) -> bytes:
    """Associated data of chunk ``seq`` of an export."""
    return field_aad("export_chunks.data", export_id) + b":%d:%d" % (seq, int(last))


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """JSON with uuids, datetimes and bytes (as hex) handled."""
    return orjson.dumps(value, default=_default)


class JsonArrayWriter:
    """Writes one JSON array into an open zip member, an element at a time."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.count = 0
        handle.write(b"[")

    def write(self, item: Any) -> None:
        self._handle.write((b",\n" if self.count else b"\n") + dumps(item))
        self.count += 1

    def write_all(self, items: Iterable[Any]) -> None:
        for item in items:
            self.write(item)

    def close(self) -> None:
        self._handle.write(b"\n]\n")


class ArchiveWriter:
    """A zip archive being written to ``handle`` (a temp file)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED)
        self.counts: dict[str, int] = {}

    def write_text(self, name: str, value: str) -> None:
        """A small text document as one member."""
        self._zip.writestr(name, value.encode("utf-8"))

    def write_json(self, name: str, value: Any) -> None:
        """A small JSON document as one member."""
        self._zip.writestr(name, dumps(value))

    @contextmanager
    def json_array(self, name: str) -> Iterator[JsonArrayWriter]:
        """A member holding a JSON array written element by element."""
        with self._zip.open(name, "w", force_zip64=True) as member:
            writer = JsonArrayWriter(member)
            yield writer
            writer.close()
        self.counts[name] = writer.count

    def close(self) -> None:
        self._zip.close()


def sealed_chunks(
    handle: IO[bytes], cipher: FieldCipher, data_key: bytes, export_id: Any, size: int
) -> Iterator[tuple[int, bytes]]:
    """``(seq, ciphertext)`` for each chunk of the ``size``-byte file (from its start)."""
    handle.seek(0)
    encrypt = cipher.encryptor(data_key)
    seq = 0
    done = 0
    while True:
        piece = handle.read(CHUNK_BYTES)
        done += len(piece)
        last = done >= size
        yield seq, encrypt(piece, chunk_aad(export_id, seq, last=last))
        seq += 1
        if last:
            return


def file_digest(handle: IO[bytes]) -> tuple[int, bytes]:
    """``(size, sha256)`` of the whole file."""
    handle.seek(0)
    digest = hashlib.sha256()
    size = 0
    while piece := handle.read(CHUNK_BYTES):
        digest.update(piece)
        size += len(piece)
    return size, digest.digest()
