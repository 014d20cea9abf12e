"""The contract every importer keeps: items, skip statistics and progress.

An importer turns one file (or a directory / archive of them) into a stream of
``ImportedItem`` values. Items carry an ``external_id`` that is a pure function
of the item's own identity inside the source (a Message-ID, a UID, a channel +
timestamp, or a hash of the item's own fields), so importing the same file
twice, or the same file after it grew, yields the same ids for the same items;
the capture service dedups on ``(stream, external_id)``.

Invalid records never abort an import: the importer skips them and records
the reason in an ``ImportStats`` the caller may pass in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

SourceKind = Literal[
    "email",
    "ebook",
    "document",
    "message",
    "calendar",
    "wearable",
    "location",
    "note",
    "web",
    "other",
]

ProgressCallback = Callable[[int], None]

# Keep a few concrete examples of skipped records for the CLI to show,
# without letting a badly broken file grow this list without bound.
MAX_SKIP_SAMPLES = 20


@dataclass(frozen=True, slots=True)
class ImportedItem:
    """One capture-to-be, as read from a source file."""

    external_id: str
    occurred_at: datetime
    title: str | None
    content: str
    data: dict[str, Any]
    source_kind: SourceKind

    def __post_init__(self) -> None:
        # Every importer normalises to UTC; enforce it here so a slip shows
        # up in tests rather than as shifted timelines in the database.
        if self.occurred_at.utcoffset() != timedelta(0):
            raise ValueError("occurred_at must be timezone-aware UTC")


class InvalidRecord(ValueError):
    """Raised by per-record parsers; the importer skips the record with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """Where a skipped record was (file, line, member …) and why."""

    where: str
    reason: str


@dataclass(slots=True)
class ImportStats:
    """Counts of what an import produced and what it had to skip."""

    items: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    samples: list[SkippedRecord] = field(default_factory=list)

    def record_item(self) -> None:
        """Count one yielded item."""
        self.items += 1

    def skip(self, reason: str, where: str = "") -> None:
        """Count one skipped record; ``reason`` should be a short stable phrase."""
        self.skipped += 1
        self.reasons[reason] += 1
        if len(self.samples) < MAX_SKIP_SAMPLES:
            self.samples.append(SkippedRecord(where=where, reason=reason))


class ProgressReporter:
    """Turns positions or increments into ``on_progress(delta)`` calls.

    Importers report in their own units (bytes, pages …) and finish with
    ``advance_to(total_units)`` so the deltas always sum to the total.
    """

    __slots__ = ("_callback", "reported")

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self.reported = 0

    def advance(self, units: int) -> None:
        """Report ``units`` more units done (ignored when not positive)."""
        if units <= 0:
            return
        self.reported += units
        if self._callback is not None:
            self._callback(units)

    def advance_to(self, position: int) -> None:
        """Report progress up to the absolute ``position``."""
        self.advance(position - self.reported)


class Importer(Protocol):
    """A source format. Instances are stateless and shared via the registry."""

    @property
    def name(self) -> str:
        """The format name used on the command line (``mbox``, ``ics`` …)."""
        ...

    @property
    def source_kind(self) -> SourceKind:
        """The kind of stream these items belong in."""
        ...

    def total_units(self, path: Path) -> int | None:
        """Work units ``iter_items`` will report in total, or None if unknown."""
        ...

    def iter_items(
        self,
        path: Path,
        *,
        on_progress: ProgressCallback | None = None,
        stats: ImportStats | None = None,
    ) -> Iterator[ImportedItem]:
        """Yield items lazily; report progress deltas and skips as it goes."""
        ...


class ImporterBase:
    """Shared plumbing: default stats, item counting and progress set-up.

    Subclasses set ``name`` and ``source_kind`` and implement ``_read``,
    which must finish by reporting progress up to ``total_units(path)``.
    """

    name: str
    source_kind: SourceKind

    def total_units(self, path: Path) -> int | None:
        """Work units of this import; subclasses say what a unit is."""
        raise NotImplementedError

    def iter_items(
        self,
        path: Path,
        *,
        on_progress: ProgressCallback | None = None,
        stats: ImportStats | None = None,
    ) -> Iterator[ImportedItem]:
        """Yield the items of ``path``; see ``Importer.iter_items``."""
        run_stats = stats if stats is not None else ImportStats()
        progress = ProgressReporter(on_progress)
        for item in self._read(path, progress, run_stats):
            run_stats.record_item()
            yield item

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        raise NotImplementedError
