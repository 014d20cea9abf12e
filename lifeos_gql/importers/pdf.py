"""``pdf`` (one item per document) and ``pdf-pages`` (one item per page).

Text comes from pypdf: pure Python, actively maintained, no system
libraries. Scanned PDFs without a text layer yield no text and are skipped
(OCR is out of scope). Encrypted files are tried with the empty password.

Identity: the first half of the trailer ``/ID``, which the PDF spec keeps
constant across revisions of the same document; files without one fall
back to their path relative to the imported directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifeos_gql.importers.base import (
    ImportedItem,
    ImportStats,
    ProgressReporter,
    SourceKind,
)
from lifeos_gql.importers.dates import ensure_utc, file_mtime
from lifeos_gql.importers.file_set import FileSetImporter
from lifeos_gql.importers.files import relative_name
from lifeos_gql.importers.identity import hashed_id, native_id

if TYPE_CHECKING:
    from pypdf import PdfReader

_SUFFIXES = (".pdf",)


def _document_key(reader: PdfReader, relative: str) -> str:
    ids = reader.trailer.get("/ID")
    first = ids[0] if isinstance(ids, list) and ids else None
    # pypdf may have decoded the binary id as text; ask for the raw bytes.
    raw = getattr(first, "original_bytes", first)
    if isinstance(raw, bytes) and raw:
        return native_id("pdf", raw.hex())
    return hashed_id("pdf", relative)


def _document_date(reader: PdfReader, file: Path) -> datetime:
    try:
        created = reader.metadata.creation_date if reader.metadata else None
    except ValueError:
        created = None  # a malformed /CreationDate is common; fall back
    return ensure_utc(created) if created else file_mtime(file)


def _metadata(reader: PdfReader) -> dict[str, Any]:
    info = reader.metadata
    if info is None:
        return {}
    fields = {
        "title": info.title,
        "author": info.author,
        "subject": info.subject,
        "producer": info.producer,
    }
    # pypdf returns str subclasses; store plain strings.
    return {key: str(value) if value else None for key, value in fields.items()}


class PdfImporter(FileSetImporter):
    """Text per document or per page; progress in bytes of the files."""

    def __init__(self, name: str, *, per_page: bool) -> None:
        self.name = name
        self.source_kind: SourceKind = "document"
        self._per_page = per_page

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
        # Imported here: pypdf (with its crypto backend) costs ~0.5 s and
        # ~50 MB to import, which every CLI start and server would pay.
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        relative = relative_name(root, file)
        try:
            reader = PdfReader(file)
            if reader.is_encrypted:
                reader.decrypt("")
            page_count = len(reader.pages)
        except (PyPdfError, ValueError, KeyError, OSError) as exc:
            stats.skip(f"unreadable PDF ({type(exc).__name__})", relative)
            return
        key = _document_key(reader, relative)
        occurred_at = _document_date(reader, file)
        meta = _metadata(reader)
        title = meta.get("title") or file.stem
        texts: list[str] = []
        for index in range(page_count):
            try:
                text = (reader.pages[index].extract_text() or "").strip()
            except Exception as exc:
                # pypdf can fail in many ways on one broken content stream;
                # the other pages are still worth having.
                stats.skip(
                    f"page text extraction failed ({type(exc).__name__})",
                    f"{relative}#page={index + 1}",
                )
                text = ""
            progress.advance_to(start + size * (index + 1) // page_count)
            if not self._per_page:
                texts.append(text)
                continue
            if not text:
                stats.skip("page has no text", f"{relative}#page={index + 1}")
                continue
            yield ImportedItem(
                external_id=f"{key}#page={index + 1}",
                occurred_at=occurred_at,
                title=f"{title} (page {index + 1})",
                content=text,
                data={"path": relative, "page": index + 1, "pages": page_count, **meta},
                source_kind=self.source_kind,
            )
        if self._per_page:
            return
        content = "\n\n".join(t for t in texts if t)
        if not content:
            stats.skip("no extractable text (scanned?)", relative)
            return
        yield ImportedItem(
            external_id=key,
            occurred_at=occurred_at,
            title=title,
            content=content,
            data={"path": relative, "pages": page_count, **meta},
            source_kind=self.source_kind,
        )
