from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers import get_importer
from lifeos_gql.importers.apple_health import readable_type

from .harness import import_twice
from .samples import HEALTH_XML, write_apple_health


def test_records_correlations_and_workouts(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("apple-health"), write_apple_health(tmp_path))

    assert stats.reasons == {"missing date": 1}
    assert [i.title for i in items] == [
        "Step count",
        "Heart rate",
        "Sleep analysis",
        "Blood pressure systolic",
        "Blood pressure diastolic",
        "Running workout",
    ]
    steps, heart, sleep, systolic, _, workout = items
    assert steps.content == "Step count: 812 count"
    assert steps.occurred_at == datetime(2024, 4, 30, 7, 0, tzinfo=UTC)
    assert steps.data["value"] == 812.0
    assert steps.data["source"] == "Alice\u2019s iPhone"
    assert heart.data["metadata"] == {"HKMetadataKeyHeartRateMotionContext": "1"}
    assert sleep.data["value"] == "HKCategoryValueSleepAnalysisAsleepCore"
    assert sleep.content == "Sleep analysis: Asleep core"
    assert systolic.data["unit"] == "mmHg"
    assert workout.content == "Running workout: 31.5 min, 5.2 km, 310 kcal"
    assert workout.data["statistics"][0]["average"] == 148.0
    assert workout.data["routes"] == ["/workout-routes/route_2024-04-30_7.00pm.gpx"]
    assert workout.source_kind == "wearable"


def test_zipped_export_gives_same_items(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export_cda.xml", "<x/>")
        archive.writestr("apple_health_export/export.xml", HEALTH_XML)
    plain = write_apple_health(tmp_path)
    importer = get_importer("apple-health")
    items, _ = import_twice(importer, path)
    assert items == list(importer.iter_items(plain))


def test_truncated_export_keeps_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    cut = HEALTH_XML.index("<Correlation")
    path.write_text(HEALTH_XML[:cut] + "<Record type=")
    items, stats = import_twice(get_importer("apple-health"), path)
    assert len(items) == 3
    assert any(reason.startswith("XML error") for reason in stats.reasons)


def test_non_xml_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text("steps,10\n")
    with pytest.raises(BadInput):
        list(get_importer("apple-health").iter_items(path))


def test_readable_type() -> None:
    assert readable_type("HKQuantityTypeIdentifierVO2Max") == "VO2 max"
    assert readable_type("HKWorkoutActivityTypeHighIntensityIntervalTraining") == (
        "High intensity interval training"
    )
