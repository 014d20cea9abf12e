from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers import get_importer

from .harness import import_twice
from .samples import write_epub


def test_epub_chapters_in_spine_order_with_toc_titles(tmp_path: Path) -> None:
    importer = get_importer("epub")
    path = write_epub(tmp_path)
    items, stats = import_twice(importer, path)

    assert importer.total_units(path) == 3  # cover + two chapters
    assert stats.reasons == {"chapter has no text": 1}  # the image-only cover
    first, second = items
    assert first.title == "The Garden Year: Spring: Sowing"
    assert first.content == "Sowing\n\nSeeds want warm soil.\n\nWater them \u2014 gently."
    assert second.data["chapter_title"] == "Summer & Harvest"
    assert second.data["chapter_index"] == 2
    assert first.data["href"] == "OEBPS/text/chapter 1.xhtml"
    book = first.data["book"]
    # The package's unique-identifier wins over the first dc:identifier.
    assert book["identifier"] == "urn:uuid:12345678-1234-5678-1234-567812345678"
    assert book["authors"] == ["Jane Gardener", "Tom Digger"]
    assert first.occurred_at == datetime(2019, 5, 1, tzinfo=UTC)
    assert first.source_kind == "ebook"


def test_epub_ids_survive_repackaging(tmp_path: Path) -> None:
    path = write_epub(tmp_path)
    copy = tmp_path / "copy.epub"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(copy, "w") as dst:
        for name in reversed(src.namelist()):  # different member order
            dst.writestr(name, src.read(name))
    importer = get_importer("epub")
    assert [i.external_id for i in importer.iter_items(path)] == [
        i.external_id for i in importer.iter_items(copy)
    ]


def test_not_a_zip_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.epub"
    path.write_text("plain text")
    with pytest.raises(BadInput):
        list(get_importer("epub").iter_items(path))
