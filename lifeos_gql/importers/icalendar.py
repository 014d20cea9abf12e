"""``ics``: iCalendar files; one item per VEVENT (parsed with ``icalendar``).

A recurring event is one item carrying its RRULE (occurrences are not
expanded); each overridden occurrence (a VEVENT with RECURRENCE-ID) is its
own item. External id: ``ical:<UID>`` or ``ical:<UID>/<RECURRENCE-ID in UTC>``.
Floating (zone-less) times are taken as UTC; all-day events start at
midnight UTC and are flagged ``all_day``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.base import (
    ImportedItem,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import date_to_utc, ensure_utc
from lifeos_gql.importers.file_set import FileSetImporter
from lifeos_gql.importers.identity import hashed_id, native_id

if TYPE_CHECKING:
    from icalendar import Component

_SUFFIXES = (".ics", ".ical", ".ifb", ".icalendar")


def _when(component: Component, name: str) -> date | datetime | None:
    value = getattr(component.get(name), "dt", None)
    return value if isinstance(value, date) else None


def _as_utc(value: date | datetime) -> datetime:
    return ensure_utc(value) if isinstance(value, datetime) else date_to_utc(value)


def _iso(value: date | datetime) -> str:
    # Dates stay dates (all-day), times are normalised to UTC.
    return _as_utc(value).isoformat() if isinstance(value, datetime) else value.isoformat()


def _text(component: Component, name: str) -> str | None:
    value = component.get(name)
    return str(value).strip() or None if value is not None else None


def _people(value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value] if value is not None else []
    people = []
    for person in values:
        params = getattr(person, "params", {})
        address = str(person)
        people.append(
            {
                "address": address[7:] if address.lower().startswith("mailto:") else address,
                "name": params.get("CN"),
                "role": params.get("ROLE"),
                "status": params.get("PARTSTAT"),
            }
        )
    return people


def parse_event(event: Component) -> ImportedItem:
    """One VEVENT to an item; ``InvalidRecord`` when it has no usable start."""
    start = _when(event, "DTSTART")
    if start is None:
        raise InvalidRecord("event has no valid DTSTART")
    end = _when(event, "DTEND")
    duration = getattr(event.get("DURATION"), "dt", None)
    if end is None and isinstance(duration, timedelta):
        end = start + duration
    recurrence = _when(event, "RECURRENCE-ID")
    uid = _text(event, "UID")
    summary = _text(event, "SUMMARY")
    description = _text(event, "DESCRIPTION")
    location = _text(event, "LOCATION")
    rrule = event.get("RRULE")
    if uid:
        key = f"{uid}/{_iso(recurrence)}" if recurrence is not None else uid
        external_id = native_id("ical", key)
    else:
        external_id = hashed_id("ical", summary, _iso(start), recurrence and _iso(recurrence))
    content = "\n\n".join(
        part for part in (summary, description, location and f"Location: {location}") if part
    )
    return ImportedItem(
        external_id=external_id,
        occurred_at=_as_utc(start),
        title=summary,
        content=content,
        data={
            "uid": uid,
            "recurrence_id": _iso(recurrence) if recurrence is not None else None,
            "start": _iso(start),
            "end": _iso(end) if end is not None else None,
            "all_day": not isinstance(start, datetime),
            "location": location,
            "status": _text(event, "STATUS"),
            "rrule": rrule.to_ical().decode() if rrule is not None else None,
            "organizer": next(iter(_people(event.get("ORGANIZER"))), None),
            "attendees": _people(event.get("ATTENDEE")),
        },
        source_kind="calendar",
    )


class IcsImporter(FileSetImporter):
    """One item per VEVENT; progress in bytes of the files."""

    name = "ics"
    source_kind = "calendar"

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
        # Imported on use, like pypdf: the registry loads every importer.
        from icalendar import Calendar

        try:
            calendars = Calendar.from_ical(file.read_bytes(), multiple=True)
        except ValueError as exc:
            if root.is_file():
                raise BadInput(f"Not a readable iCalendar file: {exc}", field="path") from exc
            stats.skip("unreadable calendar file", str(file))
            return
        events = [e for cal in calendars for e in cal.walk("VEVENT")]
        for index, event in enumerate(events):
            # The file is parsed whole; spread its bytes over its events.
            progress.advance_to(start + size * (index + 1) // len(events))
            try:
                item = parse_event(event)
            except InvalidRecord as exc:
                stats.skip(exc.reason, f"{file.name}#{index}")
                continue
            yield item
