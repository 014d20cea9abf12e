"""``apple-health``: Apple Health ``export.xml`` (or the ``export.zip``).

Exports run to gigabytes, so the XML is streamed with
``ElementTree.iterparse`` and every top-level element is dropped from the
tree once read: memory stays flat whatever the file size. One item per
``Record`` (including those inside a ``Correlation``) and per ``Workout``.
Identity: type + start + end + source + value (duration for workouts),
all as written in the file.

XML safety: expat (>= 2.4.1) bounds entity expansion and ElementTree never
loads external entities; the export's own internal DTD is harmless.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import ensure_utc, parse_datetime
from lifeos_gql.importers.files import require_file
from lifeos_gql.importers.identity import hashed_id

_PREFIXES = re.compile(
    r"^HK(?:QuantityTypeIdentifier|CategoryTypeIdentifier|CorrelationTypeIdentifier"
    r"|DataType|WorkoutActivityType)"
)
_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_APPLE_DATE = "%Y-%m-%d %H:%M:%S %z"


def readable_type(identifier: str) -> str:
    """``HKQuantityTypeIdentifierStepCount`` → ``Step count``."""
    words = _WORDS.split(_PREFIXES.sub("", identifier)) or [identifier]
    text = " ".join(w if w.isupper() else w.lower() for w in words if w)
    return text[:1].upper() + text[1:]


def _date(value: str | None) -> datetime:
    if not value:
        raise InvalidRecord("missing date")
    try:
        return ensure_utc(datetime.strptime(value, _APPLE_DATE))
    except ValueError:
        pass
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise InvalidRecord("invalid date") from exc


def _number(value: str | None) -> float | str | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value  # category records carry symbolic values


def _category_value(value: str, kind: str) -> str:
    """``HKCategoryValueSleepAnalysisAsleepCore`` → ``Asleep core``."""
    if not value.startswith("HKCategoryValue"):
        return value
    rest = value.removeprefix("HKCategoryValue")
    rest = rest.removeprefix(_PREFIXES.sub("", kind)) or rest
    return readable_type(rest)


def _metadata(elem: ET.Element) -> dict[str, str]:
    return {m.get("key", ""): m.get("value", "") for m in elem.iterfind("MetadataEntry")}


def parse_record(elem: ET.Element) -> ImportedItem:
    """A ``<Record>`` element to an item."""
    a = elem.attrib
    kind = a.get("type")
    if not kind:
        raise InvalidRecord("record has no type")
    start, end = _date(a.get("startDate")), _date(a.get("endDate") or a.get("startDate"))
    value, unit = _number(a.get("value")), a.get("unit")
    name = readable_type(kind)
    shown = _category_value(value, kind) if isinstance(value, str) else f"{value:g}"
    return ImportedItem(
        external_id=hashed_id(
            "health",
            kind,
            a.get("startDate"),
            a.get("endDate"),
            a.get("sourceName"),
            a.get("value"),
        ),
        occurred_at=start,
        title=name,
        content=f"{name}: {shown}{' ' + unit if unit else ''}" if value is not None else name,
        data={
            "record": "Record",
            "type": kind,
            "value": value,
            "unit": unit,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "created": a.get("creationDate"),
            "source": a.get("sourceName"),
            "source_version": a.get("sourceVersion"),
            "device": a.get("device"),
            "metadata": _metadata(elem),
        },
        source_kind="wearable",
    )


def parse_workout(elem: ET.Element) -> ImportedItem:
    """A ``<Workout>`` element to an item."""
    a = elem.attrib
    activity = a.get("workoutActivityType")
    if not activity:
        raise InvalidRecord("workout has no activity type")
    start, end = _date(a.get("startDate")), _date(a.get("endDate") or a.get("startDate"))
    name = readable_type(activity)
    stats = [
        {
            k: _number(v) if k in {"sum", "average", "minimum", "maximum"} else v
            for k, v in s.attrib.items()
        }
        for s in elem.iterfind("WorkoutStatistics")
    ]
    data: dict[str, Any] = {
        "record": "Workout",
        "type": activity,
        "duration": _number(a.get("duration")),
        "duration_unit": a.get("durationUnit"),
        "distance": _number(a.get("totalDistance")),
        "distance_unit": a.get("totalDistanceUnit"),
        "energy": _number(a.get("totalEnergyBurned")),
        "energy_unit": a.get("totalEnergyBurnedUnit"),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "source": a.get("sourceName"),
        "source_version": a.get("sourceVersion"),
        "device": a.get("device"),
        "statistics": stats,
        "routes": [f.get("path") for f in elem.iterfind("WorkoutRoute/FileReference")],
        "metadata": _metadata(elem),
    }
    parts = [
        f"{data[key]:g} {data[unit] or ''}".strip()
        for key, unit in (
            ("duration", "duration_unit"),
            ("distance", "distance_unit"),
            ("energy", "energy_unit"),
        )
        if isinstance(data[key], float)
    ]
    return ImportedItem(
        external_id=hashed_id(
            "health",
            activity,
            a.get("startDate"),
            a.get("endDate"),
            a.get("sourceName"),
            a.get("duration"),
        ),
        occurred_at=start,
        title=f"{name} workout",
        content=f"{name} workout" + (f": {', '.join(parts)}" if parts else ""),
        data=data,
        source_kind="wearable",
    )


_PARSERS = {"Record": parse_record, "Workout": parse_workout}


class AppleHealthImporter(ImporterBase):
    """One item per Record / Workout; progress in bytes of export.xml."""

    name = "apple-health"
    source_kind = "wearable"

    def total_units(self, path: Path) -> int:
        """Size in bytes of export.xml (uncompressed, when given the zip)."""
        require_file(path)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return archive.getinfo(_export_member(archive)).file_size
        return path.stat().st_size

    @contextmanager
    def _open(self, path: Path) -> Iterator[IO[bytes]]:
        require_file(path)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive, archive.open(_export_member(archive)) as fh:
                yield fh
        else:
            with path.open("rb") as fh:
                yield fh

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        total = self.total_units(path)
        with self._open(path) as fh:
            depth = 0
            root: ET.Element | None = None
            events = ET.iterparse(fh, events=("start", "end"))  # noqa: S314 - see module doc
            try:
                for event, elem in events:
                    if event == "start":
                        root = elem if root is None else root
                        depth += 1
                        continue
                    depth -= 1
                    parser = _PARSERS.get(elem.tag)
                    if parser is not None:
                        try:
                            item = parser(elem)
                        except InvalidRecord as exc:
                            stats.skip(exc.reason, f"{elem.tag} {elem.get('startDate', '')}")
                        else:
                            yield item
                        progress.advance_to(min(fh.tell(), total))
                    if depth == 1 and root is not None:
                        # Done with a child of <HealthData>: drop it (and any
                        # nested records) so the tree never grows.
                        root.clear()
            except ET.ParseError as exc:
                if root is None:
                    raise BadInput(f"Not an XML file: {exc}", field="path") from exc
                # Exports cut short (a failed copy) are common: keep what was read.
                stats.skip(f"XML error, rest of file ignored ({exc})", path.name)
        progress.advance_to(total)


def _export_member(archive: zipfile.ZipFile) -> str:
    names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "export.xml"]
    if not names:
        raise BadInput("No export.xml in this zip", field="path")
    return min(names, key=len)
