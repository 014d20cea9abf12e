"""``eml``: one ``.eml`` file, or a directory tree of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lifeos_gql.importers.base import (
    ImportedItem,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import file_mtime
from lifeos_gql.importers.email_message import parse_email
from lifeos_gql.importers.file_set import FileSetImporter

_SUFFIXES = (".eml",)


class EmlImporter(FileSetImporter):
    """One item per message file; progress in bytes of the files read."""

    name = "eml"
    source_kind = "email"

    suffixes = _SUFFIXES

    def _read_file(
        self,
        root: Path,
        file: Path,
        start: int,
        size: int,
        progress: ProgressReporter,
        stats: ImportStats,
    ) -> Iterator[ImportedItem]:
        raw = file.read_bytes()
        progress.advance_to(start + size)
        try:
            # A saved message has no envelope; its file time is the
            # last-resort date when the headers carry none.
            item = parse_email(raw, envelope_date=file_mtime(file))
        except InvalidRecord as exc:
            stats.skip(exc.reason, str(file))
            return
        except Exception as exc:
            # See MboxImporter: one hostile file must not stop the rest.
            stats.skip(f"unparseable message ({type(exc).__name__})", str(file))
            return
        yield item
