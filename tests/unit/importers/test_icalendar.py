from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers import get_importer

from .harness import by_title, import_twice
from .samples import write_ics


def test_events_overrides_all_day_and_floating(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("ics"), write_ics(tmp_path))

    assert stats.reasons == {"event has no valid DTSTART": 1}
    events = by_title(items)
    sync = events["Team sync"]
    assert sync.external_id == "ical:weekly-sync@example.com"
    assert sync.occurred_at == datetime(2024, 1, 8, 9, 0, tzinfo=UTC)  # Berlin winter time
    assert sync.data["end"] == "2024-01-08T09:30:00+00:00"
    assert sync.data["rrule"] == "FREQ=WEEKLY;COUNT=10"
    assert sync.data["location"] == "Room 4"
    assert sync.content == "Team sync\n\nWeekly check-in, bring updates.\n\nLocation: Room 4"
    assert sync.data["organizer"]["address"] == "alice@example.com"
    assert [(a["name"], a["address"], a["status"]) for a in sync.data["attendees"]] == [
        ("Bob Builder", "bob@example.org", "ACCEPTED"),
        ("Carol", "carol@example.net", "TENTATIVE"),
    ]
    moved = events["Team sync (moved)"]
    assert moved.external_id == "ical:weekly-sync@example.com/2024-01-15T09:00:00+00:00"
    assert moved.data["recurrence_id"] == "2024-01-15T09:00:00+00:00"
    assert moved.occurred_at == datetime(2024, 1, 15, 13, 0, tzinfo=UTC)
    holiday = events["Labour Day"]
    assert holiday.data["all_day"] is True
    assert holiday.data["start"] == "2024-05-01"
    assert holiday.occurred_at == datetime(2024, 5, 1, tzinfo=UTC)
    dentist = events["Dentist"]
    assert dentist.occurred_at == datetime(2024, 6, 1, 9, 0, tzinfo=UTC)  # floating → UTC
    assert dentist.data["end"] == "2024-06-01T09:45:00+00:00"
    assert sync.source_kind == "calendar"


def test_unreadable_calendar_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.ics"
    path.write_text("this is not a calendar")
    with pytest.raises(BadInput):
        list(get_importer("ics").iter_items(path))
