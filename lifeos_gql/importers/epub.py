"""``epub``: an EPUB 2/3 book, one item per spine document (chapter).

Read with the standard library (``zipfile`` + ElementTree over the OPF
package document) rather than ebooklib: ebooklib is AGPL-licensed and pulls
in lxml, while reading the container, the OPF spine and the table of
contents is a few dozen lines. Chapter XHTML goes through the same light
HTML-to-text conversion as e-mail.

XML safety: ElementTree uses expat, which since 2.4.1 refuses
billion-laughs style entity expansion and never fetches external entities;
every member read is size-capped against zip bombs.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.base import (
    ImportedItem,
    ImporterBase,
    ImportStats,
    ProgressReporter,
)
from lifeos_gql.importers.dates import file_mtime, parse_datetime
from lifeos_gql.importers.files import require_file
from lifeos_gql.importers.html_text import parse_html
from lifeos_gql.importers.identity import hashed_id

MAX_MEMBER_BYTES = 64 * 1024 * 1024
_CONTAINER = "META-INF/container.xml"


@dataclass(slots=True)
class Book:
    """What the OPF package document says about the book."""

    opf_dir: str
    identifier: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    publisher: str | None = None
    date: str | None = None
    modified: str | None = None
    manifest: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # id → href, type, props
    spine: list[str] = field(default_factory=list)  # resolved member names
    ncx_id: str | None = None

    def metadata(self) -> dict[str, Any]:
        """The JSON-ready book metadata stored on every chapter."""
        return {
            "identifier": self.identifier,
            "title": self.title,
            "authors": self.authors,
            "language": self.language,
            "publisher": self.publisher,
            "date": self.date,
        }


def _xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - expat limits entity expansion (see module doc)


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes")
    with archive.open(info) as member:
        return member.read(MAX_MEMBER_BYTES + 1)[:MAX_MEMBER_BYTES]


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return " ".join(element.text.split()) or None


def _resolve(base_dir: str, href: str) -> str:
    path = unquote(href.split("#", 1)[0])
    return (
        posixpath.normpath(posixpath.join(base_dir, path)) if base_dir else posixpath.normpath(path)
    )


def read_book(archive: zipfile.ZipFile) -> Book:
    """Locate and parse the OPF package document."""
    container = _xml(_read_member(archive, _CONTAINER))
    rootfile = container.find(".//{*}rootfile")
    opf_path = rootfile.get("full-path") if rootfile is not None else None
    if not opf_path:
        raise ValueError("container.xml names no rootfile")
    package = _xml(_read_member(archive, opf_path))
    book = Book(opf_dir=posixpath.dirname(opf_path))
    metadata = package.find("{*}metadata")
    if metadata is not None:
        unique_id = package.get("unique-identifier")
        identifiers = metadata.findall("{*}identifier")
        chosen = [i for i in identifiers if unique_id and i.get("id") == unique_id] or identifiers
        book.identifier = _text(chosen[0]) if chosen else None
        book.title = _text(metadata.find("{*}title"))
        book.authors = [a for a in (_text(c) for c in metadata.findall("{*}creator")) if a]
        book.language = _text(metadata.find("{*}language"))
        book.publisher = _text(metadata.find("{*}publisher"))
        book.date = _text(metadata.find("{*}date"))
        for meta in metadata.findall("{*}meta"):
            if meta.get("property") == "dcterms:modified":
                book.modified = _text(meta)
    for item in package.iterfind("{*}manifest/{*}item"):
        item_id, href = item.get("id"), item.get("href")
        if item_id and href:
            resolved = _resolve(book.opf_dir, href)
            book.manifest[item_id] = (
                resolved,
                item.get("media-type", ""),
                item.get("properties", ""),
            )
    spine = package.find("{*}spine")
    if spine is not None:
        book.ncx_id = spine.get("toc")
        for ref in spine.iterfind("{*}itemref"):
            entry = book.manifest.get(ref.get("idref", ""))
            if entry is not None:
                book.spine.append(entry[0])
    return book


def read_toc(archive: zipfile.ZipFile, book: Book) -> dict[str, str]:
    """Chapter file → its first title in the EPUB 3 nav or EPUB 2 NCX."""
    titles: dict[str, str] = {}
    for href, _media, props in book.manifest.values():
        if "nav" in props.split():
            html = _read_member(archive, href).decode("utf-8", "replace")
            nav_dir = posixpath.dirname(href)
            for link, label in parse_html(html).links:
                if label:
                    titles.setdefault(_resolve(nav_dir, link), label)
    ncx = book.manifest.get(book.ncx_id or "")
    if ncx is not None and not titles:
        root = _xml(_read_member(archive, ncx[0]))
        ncx_dir = posixpath.dirname(ncx[0])
        for point in root.iter("{http://www.daisy.org/z3986/2005/ncx/}navPoint"):
            point_label = _text(point.find("{*}navLabel/{*}text"))
            content = point.find("{*}content")
            src = content.get("src") if content is not None else None
            if point_label and src:
                titles.setdefault(_resolve(ncx_dir, src), point_label)
    return titles


def _book_date(book: Book, path: Path) -> datetime:
    for candidate in (book.date, book.modified):
        if candidate:
            try:
                return parse_datetime(candidate)
            except ValueError:
                continue
    return file_mtime(path)


class EpubImporter(ImporterBase):
    """One item per spine document; progress in spine documents."""

    name = "epub"
    source_kind = "ebook"

    def total_units(self, path: Path) -> int:
        """The number of documents in the book's spine."""
        with self._open(path) as archive:
            return len(self._book(archive).spine)

    @staticmethod
    def _open(path: Path) -> zipfile.ZipFile:
        require_file(path)
        try:
            return zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise BadInput(f"Not an EPUB (zip) file: {path}", field="path") from exc

    @staticmethod
    def _book(archive: zipfile.ZipFile) -> Book:
        try:
            return read_book(archive)
        except (KeyError, ValueError, ET.ParseError) as exc:
            raise BadInput(f"Not a readable EPUB: {exc}", field="path") from exc

    def _read(
        self, path: Path, progress: ProgressReporter, stats: ImportStats
    ) -> Iterator[ImportedItem]:
        with self._open(path) as archive:
            book = self._book(archive)
            try:
                toc = read_toc(archive, book)
            except (KeyError, ValueError, ET.ParseError):
                toc = {}  # a broken TOC only costs us chapter titles
            # The book's own identifier survives re-packaging; without one,
            # title + authors is the next most stable identity.
            book_key = book.identifier or hashed_id("book", book.title, *book.authors)
            occurred_at = _book_date(book, path)
            for index, member in enumerate(book.spine):
                progress.advance(1)
                try:
                    page = parse_html(_read_member(archive, member).decode("utf-8", "replace"))
                except (KeyError, ValueError) as exc:
                    stats.skip(f"unreadable chapter ({exc})", f"{path.name}:{member}")
                    continue
                if not page.text:
                    stats.skip("chapter has no text", f"{path.name}:{member}")
                    continue
                chapter = toc.get(member) or page.heading or page.title or f"Part {index + 1}"
                title = f"{book.title}: {chapter}" if book.title else chapter
                yield ImportedItem(
                    external_id=hashed_id("epub", book_key, member),
                    occurred_at=occurred_at,
                    title=title,
                    content=page.text,
                    data={
                        "book": book.metadata(),
                        "chapter_title": chapter,
                        "chapter_index": index,
                        "href": member,
                    },
                    source_kind=self.source_kind,
                )
