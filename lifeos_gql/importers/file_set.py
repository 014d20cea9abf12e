"""Importers that read one file, or every file with given suffixes in a folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lifeos_gql.importers.base import ImportedItem, ImporterBase, ImportStats, ProgressReporter
from lifeos_gql.importers.files import find_files, total_size


class FileSetImporter(ImporterBase):
    """Progress is in bytes of the files; each file ends at its full size.

    Subclasses set ``suffixes`` and implement ``_read_file``, which may
    report progress inside the file (between ``start`` and ``start + size``)
    and skip what it cannot read; the byte count of the whole file is
    reported after it, whatever happened inside.
    """

    suffixes: tuple[str, ...]

    def total_units(self, path: Path) -> int:
        """Total size in bytes of the files this import reads."""
        return total_size(find_files(path, self.suffixes))

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        for file in find_files(path, self.suffixes):
            start = progress.reported
            size = file.stat().st_size
            yield from self._read_file(path, file, start, size, progress, stats)
            progress.advance_to(start + size)

    def _read_file(
        self,
        root: Path,
        file: Path,
        start: int,
        size: int,
        progress: ProgressReporter,
        stats: ImportStats,
    ) -> Iterator[ImportedItem]:
        raise NotImplementedError
