"""Format name → importer, as used by ``lifeos-gql import FORMAT PATH``."""

from __future__ import annotations

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.apple_health import AppleHealthImporter
from lifeos_gql.importers.base import Importer
from lifeos_gql.importers.chat_json import ChatJsonImporter
from lifeos_gql.importers.csv_measurements import CsvMeasurementsImporter
from lifeos_gql.importers.email_eml import EmlImporter
from lifeos_gql.importers.email_mbox import MboxImporter
from lifeos_gql.importers.epub import EpubImporter
from lifeos_gql.importers.gpx import GpxImporter
from lifeos_gql.importers.icalendar import IcsImporter
from lifeos_gql.importers.kindle_clippings import KindleClippingsImporter
from lifeos_gql.importers.markdown import NotesImporter
from lifeos_gql.importers.pdf import PdfImporter
from lifeos_gql.importers.slack import SlackImporter

_ALL: tuple[Importer, ...] = (
    MboxImporter(),
    EmlImporter(),
    EpubImporter(),
    KindleClippingsImporter(),
    NotesImporter("markdown", (".md", ".markdown", ".mdown", ".mkd"), headings=True),
    NotesImporter("text", (".txt", ".text"), headings=False),
    PdfImporter("pdf", per_page=False),
    PdfImporter("pdf-pages", per_page=True),
    SlackImporter(),
    ChatJsonImporter(),
    IcsImporter(),
    GpxImporter(),
    AppleHealthImporter(),
    CsvMeasurementsImporter(),
)

IMPORTERS: dict[str, Importer] = {importer.name: importer for importer in _ALL}


def get_importer(fmt: str) -> Importer:
    """The importer for ``fmt``; ``BadInput`` naming the valid formats otherwise."""
    importer = IMPORTERS.get(fmt.strip().lower())
    if importer is None:
        valid = sorted(IMPORTERS)
        raise BadInput(
            f"Unknown import format {fmt!r}; valid formats: {', '.join(valid)}",
            field="format",
            valid=valid,
        )
    return importer
