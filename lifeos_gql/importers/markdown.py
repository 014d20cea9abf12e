"""``markdown`` and ``text``: a note file, or a directory tree of notes.

An optional YAML front matter block (``---`` … ``---`` or ``...`` at the
very top) is parsed with PyYAML's safe loader into ``data["front_matter"]``;
its ``title`` and ``date`` (or ``created``) become the item's title and
date. Otherwise the title is the first ``# heading`` (markdown) or the file
name, and the date is the file's modification time.

Identity: a front matter ``id``/``uid``/``uuid`` when present, else the
path relative to the imported directory (for a single file, its name). So
import a notes tree from the same root each time to keep ids stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    ProgressReporter,
    SourceKind,
)
from lifeos_gql.importers.dates import file_mtime, parse_datetime
from lifeos_gql.importers.files import find_files, relative_name, total_size
from lifeos_gql.importers.identity import hashed_id, native_id
from lifeos_gql.importers.json_data import to_jsonable

_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(?P<yaml>.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)
_HEADING = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$", re.M)
_ID_KEYS = ("id", "uid", "uuid")
_DATE_KEYS = ("date", "created", "created_at", "updated")


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """``(front matter or None, body, error)`` for a note's text."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text, None
    try:
        loaded = yaml.safe_load(match["yaml"])
    except yaml.YAMLError as exc:
        # Keep the whole note as text rather than lose it over bad YAML.
        return None, text, f"invalid front matter: {type(exc).__name__}"
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        return None, text, "front matter is not a mapping"
    return to_jsonable(loaded), text[match.end() :], None


def _note_date(front: dict[str, Any], file: Path) -> datetime:
    for key in _DATE_KEYS:
        value = front.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                return parse_datetime(value)
            except ValueError:
                continue
    return file_mtime(file)


class NotesImporter(ImporterBase):
    """One item per note file; progress in bytes of the files read."""

    def __init__(self, name: str, suffixes: tuple[str, ...], *, headings: bool) -> None:
        self.name = name
        self.source_kind: SourceKind = "note"
        self._suffixes = suffixes
        self._headings = headings

    def total_units(self, path: Path) -> int:
        """Total size in bytes of the note files found."""
        return total_size(find_files(path, self._suffixes))

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        for file in find_files(path, self._suffixes):
            text = file.read_bytes().decode("utf-8-sig", "replace")
            progress.advance(file.stat().st_size)
            front, body, error = split_front_matter(text)
            front = front or {}
            body = body.strip()
            if not body and not front:
                stats.skip("empty note", str(file))
                continue
            relative = relative_name(path, file)
            yield ImportedItem(
                external_id=self._identity(front, relative),
                occurred_at=_note_date(front, file),
                title=self._title(front, body, file),
                content=body,
                data={
                    "path": relative,
                    "front_matter": front,
                    "tags": front.get("tags", []),
                    **({"front_matter_error": error} if error else {}),
                },
                source_kind=self.source_kind,
            )

    @staticmethod
    def _identity(front: dict[str, Any], relative: str) -> str:
        for key in _ID_KEYS:
            value = front.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                return native_id("note", str(value))
        return hashed_id("note", relative)

    def _title(self, front: dict[str, Any], body: str, file: Path) -> str:
        title = front.get("title")
        if isinstance(title, str) and title.strip():
            return title.strip()
        if self._headings:
            heading = _HEADING.search(body)
            if heading:
                return heading["title"]
        return file.stem
