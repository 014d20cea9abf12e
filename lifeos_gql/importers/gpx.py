"""``gpx``: GPS tracks (parsed with gpxpy); one item per ``<trk>``.

Each item summarises its track: distance (2D and 3D, metres), duration and
moving time (seconds), climb, bounding box, start/end time. The raw points
are kept in ``data["points"]`` only for tracks of at most ``MAX_KEPT_POINTS``
points, so a day-long recording does not bloat the capture. Routes and
loose waypoints are not imported. Identity: track name + first point
(time, latitude, longitude).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.base import (
    ImportedItem,
    ImportStats,
    InvalidRecord,
    ProgressReporter,
)
from lifeos_gql.importers.dates import ensure_utc, file_mtime
from lifeos_gql.importers.file_set import FileSetImporter
from lifeos_gql.importers.identity import hashed_id

if TYPE_CHECKING:
    import gpxpy.gpx

MAX_KEPT_POINTS = 500
_SUFFIXES = (".gpx",)


def _points(track: gpxpy.gpx.GPXTrack) -> list[gpxpy.gpx.GPXTrackPoint]:
    return [p for segment in track.segments for p in segment.points]


def _utc(value: datetime | None) -> datetime | None:
    return ensure_utc(value) if value is not None else None


def parse_track(track: gpxpy.gpx.GPXTrack, fallback_time: datetime) -> ImportedItem:
    """Summarise one track; ``InvalidRecord`` when it has no points."""
    points = _points(track)
    if not points:
        raise InvalidRecord("track has no points")
    first = points[0]
    bounds = track.get_time_bounds()
    started, ended = _utc(bounds.start_time), _utc(bounds.end_time)
    box = track.get_bounds()
    moving = track.get_moving_data()
    climb = track.get_uphill_downhill()
    distance = track.length_3d()
    name = track.name or None
    summary: dict[str, Any] = {
        "name": name,
        "type": track.type,
        "description": track.description,
        "segments": len(track.segments),
        "point_count": len(points),
        "distance_2d_m": round(track.length_2d() or 0.0, 1),
        "distance_3d_m": round(distance, 1),
        "duration_s": track.get_duration(),
        "moving_time_s": moving.moving_time if moving else None,
        "uphill_m": round(climb.uphill, 1),
        "downhill_m": round(climb.downhill, 1),
        "start": started.isoformat() if started else None,
        "end": ended.isoformat() if ended else None,
        "bbox": None
        if box is None
        else {
            "min_lat": box.min_latitude,
            "min_lon": box.min_longitude,
            "max_lat": box.max_latitude,
            "max_lon": box.max_longitude,
        },
    }
    if len(points) <= MAX_KEPT_POINTS:
        summary["points"] = [[p.latitude, p.longitude, p.elevation, _iso(p.time)] for p in points]
    first_time = _utc(first.time)
    label = name or "Track"
    duration = summary["duration_s"]
    content = f"{label}: {distance / 1000:.2f} km" + (
        f" in {duration / 60:.0f} min" if duration else ""
    )
    return ImportedItem(
        external_id=hashed_id(
            "gpx", name, first_time and first_time.isoformat(), first.latitude, first.longitude
        ),
        occurred_at=started or fallback_time,
        title=label,
        content=content,
        data=summary,
        source_kind="location",
    )


def _iso(value: datetime | None) -> str | None:
    utc = _utc(value)
    return utc.isoformat() if utc else None


class GpxImporter(FileSetImporter):
    """One item per track; progress in bytes of the files."""

    name = "gpx"
    source_kind = "location"

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
        import gpxpy
        from gpxpy.gpx import GPXException

        try:
            document = gpxpy.parse(file.read_bytes().decode("utf-8-sig", "replace"))
        except GPXException as exc:
            if root.is_file():
                raise BadInput(f"Not a readable GPX file: {exc}", field="path") from exc
            stats.skip("unreadable GPX file", str(file))
            return
        # Tracks without times are dated by the file's metadata, then mtime.
        fallback = _utc(document.time) or file_mtime(file)
        for index, track in enumerate(document.tracks):
            progress.advance_to(start + size * (index + 1) // len(document.tracks))
            try:
                item = parse_track(track, fallback)
            except InvalidRecord as exc:
                stats.skip(exc.reason, f"{file.name}#trk{index}")
                continue
            yield item
