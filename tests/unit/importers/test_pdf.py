from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeos_gql.importers import get_importer

from .harness import import_twice
from .samples import pdf_bytes, write_pdf


def test_pdf_per_document(tmp_path: Path) -> None:
    items, stats = import_twice(get_importer("pdf"), write_pdf(tmp_path))
    assert stats.skipped == 0
    (doc,) = items
    assert doc.external_id == "pdf:0123456789abcdef0123456789abcdef"
    assert doc.title == "Allotment Report"
    assert doc.content == "Annual report of the allotment society\n\nTomatoes did well this year"
    assert doc.occurred_at == datetime(2023, 4, 5, 6, 7, 8, tzinfo=UTC)
    assert doc.data["pages"] == 2
    assert doc.data["author"] == "Sam Writer"
    assert doc.source_kind == "document"


def test_pdf_pages_and_directory_with_broken_file(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder)
    (folder / "untitled.pdf").write_bytes(pdf_bytes(["Only page", ""], title=None, file_id=None))
    (folder / "zz-broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    items, stats = import_twice(get_importer("pdf-pages"), folder)
    assert [i.title for i in items] == [
        "Allotment Report (page 1)",
        "Allotment Report (page 2)",
        "untitled (page 1)",
    ]
    assert items[1].external_id == "pdf:0123456789abcdef0123456789abcdef#page=2"
    assert items[1].data["page"] == 2
    # No /ID: the id comes from the path relative to the imported folder.
    assert items[2].external_id.startswith("pdf:") and items[2].external_id.endswith("#page=1")
    assert stats.reasons["page has no text"] == 1
    assert sum(v for k, v in stats.reasons.items() if k.startswith("unreadable PDF")) == 1
