"""``csv``: time-stamped measurements, one item per data row.

The first row is the header. The timestamp column is the first named
``timestamp``, ``time``, ``date`` or ``datetime`` (any case), else the first
whose name contains one of those words; separate ``date`` and ``time``
columns are combined. Other cells that parse as numbers (a decimal comma is
accepted when the delimiter is not a comma) are measurements; the rest are
kept as text fields. The delimiter is sniffed among ``, ; TAB |``.

Identity: timestamp + header names + the text fields of the row. Values
are left out on purpose, so a corrected re-export updates nothing twice,
and the file name too, so overlapping exports of one series dedup.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.base import (
    ImportedItem,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import parse_datetime
from lifeos_gql.importers.file_set import FileSetImporter
from lifeos_gql.importers.files import relative_name
from lifeos_gql.importers.identity import hashed_id

TIMESTAMP_NAMES = ("timestamp", "datetime", "time", "date")
_SUFFIXES = (".csv", ".tsv")


def timestamp_columns(header: list[str]) -> list[int]:
    """Indexes of the cells that make up the timestamp (one, or date + time)."""
    names = [h.strip().lower() for h in header]
    if "date" in names and "time" in names and not {"timestamp", "datetime"} & set(names):
        return [names.index("date"), names.index("time")]
    for wanted in TIMESTAMP_NAMES:
        if wanted in names:
            return [names.index(wanted)]
    for index, name in enumerate(names):
        if any(word in name for word in TIMESTAMP_NAMES):
            return [index]
    raise BadInput(f"No timestamp column; name one of: {', '.join(TIMESTAMP_NAMES)}", field="path")


def _number(text: str, decimal_comma: bool) -> float | None:
    try:
        return float(text.replace(",", ".") if decimal_comma else text)
    except ValueError:
        return None


def parse_row(
    row: list[str], header: list[str], time_columns: list[int], decimal_comma: bool
) -> tuple[datetime, dict[str, float], dict[str, str]]:
    """``(timestamp, measurements, text fields)`` of one data row."""
    if len(row) != len(header):
        raise InvalidRecord("column count differs from header")
    stamp = " ".join(row[i].strip() for i in time_columns).strip()
    try:
        occurred_at = parse_datetime(stamp)
    except ValueError as exc:
        raise InvalidRecord("invalid timestamp") from exc
    measurements: dict[str, float] = {}
    fields: dict[str, str] = {}
    for index, (name, cell) in enumerate(zip(header, row, strict=True)):
        cell = cell.strip()
        if index in time_columns or not cell:
            continue
        number = _number(cell, decimal_comma)
        if number is None:
            fields[name] = cell
        else:
            measurements[name] = number
    if not measurements:
        raise InvalidRecord("no numeric values")
    return occurred_at, measurements, fields


class CsvMeasurementsImporter(FileSetImporter):
    """One item per data row; progress in bytes of the files."""

    name = "csv"
    source_kind = "wearable"

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
        relative = relative_name(root, file)
        try:
            yield from self._read_rows(relative, file, start, progress, stats)
        except BadInput:
            if root.is_file():
                raise
            stats.skip("no timestamp column", relative)

    def _read_rows(
        self, relative: str, file: Path, start: int, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        with file.open("rb") as raw:
            sample = raw.read(8192).decode("utf-8-sig", "ignore")
            raw.seek(0)
            try:
                dialect: type[csv.Dialect] = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel_tab if file.suffix.lower() == ".tsv" else csv.excel
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text, dialect)
            header = [h.strip() for h in next(reader, [])]
            if not header:
                stats.skip("empty file", relative)
                return
            time_columns = timestamp_columns(header)
            decimal_comma = dialect.delimiter != ","
            stem = Path(relative).stem
            for row in reader:
                progress.advance_to(start + raw.tell())
                if not any(cell.strip() for cell in row):
                    continue  # blank lines are layout, not bad data
                try:
                    occurred_at, measurements, fields = parse_row(
                        row, header, time_columns, decimal_comma
                    )
                except InvalidRecord as exc:
                    stats.skip(exc.reason, f"{relative}:{reader.line_num}")
                    continue
                yield ImportedItem(
                    external_id=hashed_id(
                        "csv",
                        occurred_at.isoformat(),
                        "\x1f".join(header),
                        *sorted(fields.items()),
                    ),
                    occurred_at=occurred_at,
                    title=stem,
                    content=", ".join(f"{k}: {v:g}" for k, v in measurements.items()),
                    data={"measurements": measurements, "fields": fields, "file": relative},
                    source_kind=self.source_kind,
                )
