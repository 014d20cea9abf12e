"""``kindle``: a Kindle ``My Clippings.txt`` file of highlights and notes.

Each clipping is::

    Book Title (Author Name)
    - Your Highlight on page 12 | Location 170-172 | Added on Monday, 1 January 2024 10:00:00

    The highlighted text.
    ==========

Kindles write a UTF-8 BOM at the start of the file and often before each
title too; both are stripped. Older firmware writes ``- Highlight Loc.
170-72 | Added on ...``, which is understood as well. Bookmarks carry no
text and are skipped; the meta line is read in English (other device
languages fall out as skipped records, counted by reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import parse_datetime
from lifeos_gql.importers.files import require_file
from lifeos_gql.importers.identity import hashed_id

_SEPARATOR = "=========="
_TITLE_AUTHOR = re.compile(r"^(?P<title>.*?)\s*\((?P<author>[^()]*)\)\s*$")
_KIND = re.compile(r"\b(highlight|note|bookmark|clip(?:ping)?)\b", re.IGNORECASE)
_PAGE = re.compile(r"\bpage\s+(?P<page>[\w-]+)", re.IGNORECASE)
_LOCATION = re.compile(r"\b(?:location|loc\.)\s*(?P<loc>\d+(?:-\d+)?)", re.IGNORECASE)
_ADDED = re.compile(r"\badded on\s+(?P<added>.+)$", re.IGNORECASE)


def parse_clipping(lines: list[str]) -> ImportedItem:
    """One clipping (the lines between separators) to an item."""
    lines = [line.replace("\ufeff", "").rstrip("\r\n") for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    if len(lines) < 2:
        raise InvalidRecord("incomplete clipping")
    title_line, meta = lines[0].strip(), lines[1].strip()
    text = "\n".join(lines[2:]).strip()
    kind_match = _KIND.search(meta)
    kind = kind_match.group(1).lower() if kind_match else "unknown"
    if kind == "bookmark":
        raise InvalidRecord("bookmark (no text)")
    if not text:
        raise InvalidRecord("clipping has no text")
    added = _ADDED.search(meta)
    if added is None:
        raise InvalidRecord("no 'Added on' date")
    try:
        occurred_at = parse_datetime(added.group("added"))
    except ValueError as exc:
        raise InvalidRecord("unparseable date") from exc
    match = _TITLE_AUTHOR.match(title_line)
    book, author = (match["title"], match["author"].strip()) if match else (title_line, None)
    page = _PAGE.search(meta)
    location = _LOCATION.search(meta)
    return ImportedItem(
        # The same highlight, re-exported or after the file grew, has the same
        # book line, kind, position and creation time.
        external_id=hashed_id(
            "kindle",
            title_line,
            kind,
            location and location["loc"],
            page and page["page"],
            added.group("added").strip(),
        ),
        occurred_at=occurred_at,
        title=book or None,
        content=text,
        data={
            "book": book,
            "author": author,
            "kind": kind,
            "page": page["page"] if page else None,
            "location": location["loc"] if location else None,
            "added": occurred_at.isoformat(),
        },
        source_kind="ebook",
    )


class KindleClippingsImporter(ImporterBase):
    """One item per highlight or note; progress in bytes."""

    name = "kindle"
    source_kind = "ebook"

    def total_units(self, path: Path) -> int:
        """The file size in bytes."""
        return require_file(path).stat().st_size

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        total = self.total_units(path)
        with path.open("rb") as stream:
            block: list[str] = []
            start_line = 1
            for number, raw in enumerate(stream, start=1):
                line = raw.decode("utf-8", "replace")
                if line.replace("\ufeff", "").strip() != _SEPARATOR:
                    block.append(line)
                    continue
                progress.advance_to(min(stream.tell(), total))
                item = self._parse(block, f"{path.name}:{start_line}", stats)
                block, start_line = [], number + 1
                if item is not None:
                    yield item
            if any(line.strip() for line in block):
                item = self._parse(block, f"{path.name}:{start_line}", stats)
                if item is not None:
                    yield item
        progress.advance_to(total)

    @staticmethod
    def _parse(block: list[str], where: str, stats: ImportStats) -> ImportedItem | None:
        try:
            return parse_clipping(block)
        except InvalidRecord as exc:
            stats.skip(exc.reason, where)
            return None
