"""Enums and small shared types of the GraphQL surface."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TypeVar

import strawberry

from lifeos_gql.domains.captures.models import AnalysisStatus as DomainAnalysisStatus
from lifeos_gql.domains.sharing.policy import Role as DomainRole
from lifeos_gql.domains.streams.models import SourceKind as DomainSourceKind

T = TypeVar("T")
E = TypeVar("E")


@strawberry.enum(description="Where a stream's items come from.")
class SourceKind(Enum):
    EMAIL = "EMAIL"
    EBOOK = "EBOOK"
    DOCUMENT = "DOCUMENT"
    MESSAGE = "MESSAGE"
    NOTE = "NOTE"
    CALENDAR = "CALENDAR"
    WEARABLE = "WEARABLE"
    LOCATION = "LOCATION"
    WEB = "WEB"
    OTHER = "OTHER"

    def to_domain(self) -> DomainSourceKind:
        return DomainSourceKind(self.value.lower())

    @classmethod
    def from_domain(cls, value: str) -> SourceKind:
        return cls(value.upper())


@strawberry.enum(description="What a user may do with a stream.")
class Role(Enum):
    OWNER = "OWNER"
    COLLABORATOR = "COLLABORATOR"
    VIEWER = "VIEWER"

    @classmethod
    def from_domain(cls, value: DomainRole) -> Role:
        return cls(value.value)


@strawberry.enum(description="Where a capture is in the analysis pipeline.")
class AnalysisStatus(Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"

    @classmethod
    def from_domain(cls, value: DomainAnalysisStatus) -> AnalysisStatus:
        return cls(value.value)


@strawberry.type(description="Relay-style page information for keyset connections.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def keyset_edges(
    items: Sequence[T], has_next: bool, *, cursor: Callable[[T], str], edge: Callable[[str, T], E]
) -> tuple[list[E], PageInfo]:
    """Edges and page info of one keyset page (``cursor`` names an item's position)."""
    cursors = [cursor(item) for item in items]
    edges = [edge(c, item) for c, item in zip(cursors, items, strict=True)]
    return edges, PageInfo(has_next_page=has_next, end_cursor=cursors[-1] if cursors else None)


@strawberry.type(description="Why one item of a request was not stored.")
class ItemError:
    code: str
    message: str
    field: str | None
