from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer
from lifeos_gql.importers.gpx import MAX_KEPT_POINTS

from .harness import import_twice
from .samples import write_gpx


def test_tracks_are_summarised(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("gpx"), write_gpx(tmp_path))

    assert stats.reasons == {"track has no points": 1}
    run, walk = items
    assert run.title == "Morning run"
    assert run.occurred_at == datetime(2024, 4, 1, 6, 0, tzinfo=UTC)
    assert run.data["duration_s"] == 360.0
    assert run.data["point_count"] == 3
    assert 1300 < run.data["distance_2d_m"] < 1400  # two ~660 m legs
    assert run.data["bbox"] == {
        "min_lat": 52.52,
        "min_lon": 13.405,
        "max_lat": 52.53,
        "max_lon": 13.415,
    }
    assert run.data["points"][0] == [52.52, 13.405, 34.0, "2024-04-01T06:00:00+00:00"]
    assert run.content.startswith("Morning run: 1.3")
    # An untimed track falls back to the file's metadata time.
    assert walk.occurred_at == datetime(2024, 4, 1, 6, 0, tzinfo=UTC)
    assert walk.data["duration_s"] is None
    assert run.source_kind == "location"


def test_large_tracks_drop_raw_points(tmp_path: Path) -> None:
    points = "".join(
        f'<trkpt lat="{50 + i / 10000:.4f}" lon="8.0"><time>2024-04-02T10:{i // 60 % 60:02d}:{i % 60:02d}Z</time></trkpt>'
        for i in range(MAX_KEPT_POINTS + 1)
    )
    path = tmp_path / "long.gpx"
    path.write_text(
        '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>Long</name><trkseg>{points}</trkseg></trk></gpx>"
    )
    (item,), _ = import_twice(get_importer("gpx"), path)
    assert "points" not in item.data
    assert item.data["point_count"] == MAX_KEPT_POINTS + 1
