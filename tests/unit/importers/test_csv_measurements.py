from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers import get_importer

from .harness import import_twice
from .samples import CSV, write_csv


def test_rows_become_measurements(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("csv"), write_csv(tmp_path))

    assert stats.reasons == {
        "invalid timestamp": 1,
        "no numeric values": 1,
        "column count differs from header": 1,
    }
    assert [s.where for s in stats.samples] == ["weight.csv:5", "weight.csv:7", "weight.csv:8"]
    first, naive, other_device = items
    assert first.occurred_at == datetime(2024, 1, 1, 7, 0, tzinfo=UTC)
    assert first.data["measurements"] == {"weight_kg": 72.5, "body_fat_pct": 18.2}
    assert first.data["fields"] == {"device": "scale-a"}
    assert first.content == "weight_kg: 72.5, body_fat_pct: 18.2"
    assert first.title == "weight"
    assert naive.occurred_at == datetime(2024, 1, 2, 7, 5, tzinfo=UTC)  # naive → UTC
    assert naive.data["measurements"] == {"weight_kg": 72.1}
    assert other_device.occurred_at == datetime(2024, 1, 3, 6, 0, tzinfo=UTC)
    assert first.source_kind == "wearable"


def test_ids_ignore_row_position_and_values(tmp_path: Path) -> None:
    importer = get_importer("csv")
    original = write_csv(tmp_path)
    ids = {i.occurred_at: i.external_id for i in importer.iter_items(original)}
    header, *rows = CSV.splitlines()
    reordered = tmp_path / "copy.csv"
    corrected = [r.replace("72.5", "72.4") for r in reversed(rows)]
    reordered.write_text("\n".join([header, *corrected]) + "\n")
    assert {i.occurred_at: i.external_id for i in importer.iter_items(reordered)} == ids


def test_semicolons_decimal_commas_and_split_date_time(tmp_path: Path) -> None:
    path = tmp_path / "bp.csv"
    path.write_text("Date;Time;Systolic;Diastolic\n2024-02-01;08:30;118,5;76\n")
    (item,), _ = import_twice(get_importer("csv"), path)
    assert item.occurred_at == datetime(2024, 2, 1, 8, 30, tzinfo=UTC)
    assert item.data["measurements"] == {"Systolic": 118.5, "Diastolic": 76.0}


def test_missing_timestamp_column_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(BadInput, match="timestamp"):
        list(get_importer("csv").iter_items(path))
