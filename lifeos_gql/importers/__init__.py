"""Importers: turn real files (mail, books, notes, chats, calendars, health
and location data) into capture items, streaming and deterministically.

Use ``get_importer(fmt).iter_items(path, on_progress=..., stats=...)``.
"""

from lifeos_gql.importers.base import (
    ImportedItem,
    Importer,
    ImportStats,
    ProgressCallback,
    SkippedRecord,
    SourceKind,
)
from lifeos_gql.importers.registry import IMPORTERS, get_importer

__all__ = [
    "IMPORTERS",
    "ImportStats",
    "ImportedItem",
    "Importer",
    "ProgressCallback",
    "SkippedRecord",
    "SourceKind",
    "get_importer",
]
