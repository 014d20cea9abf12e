"""``eml``: one ``.eml`` file, or a directory tree of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import file_mtime
from lifeos_gql.importers.email_message import parse_email
from lifeos_gql.importers.files import find_files, total_size

_SUFFIXES = (".eml",)


class EmlImporter(ImporterBase):
    """One item per message file; progress in bytes of the files read."""

    name = "eml"
    source_kind = "email"

    def total_units(self, path: Path) -> int:
        """Total size in bytes of the ``.eml`` files found."""
        return total_size(find_files(path, _SUFFIXES))

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        for file in find_files(path, _SUFFIXES):
            raw = file.read_bytes()
            progress.advance(file.stat().st_size)
            try:
                # A saved message has no envelope; its file time is the
                # last-resort date when the headers carry none.
                item = parse_email(raw, envelope_date=file_mtime(file))
            except InvalidRecord as exc:
                stats.skip(exc.reason, str(file))
                continue
            except Exception as exc:
                # See MboxImporter: one hostile file must not stop the rest.
                stats.skip(f"unparseable message ({type(exc).__name__})", str(file))
                continue
            yield item
