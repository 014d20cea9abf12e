"""GraphQL types of GDPR export and erasure."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.privacy.models import ErasureReceipt as ReceiptModel
from lifeos_gql.domains.privacy.models import ExportRecord
from lifeos_gql.domains.privacy.signed_urls import signer_from_settings


@strawberry.enum(description="Where an export is.")
class ExportStatus(Enum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


@strawberry.type(description="An archive of everything LifeOS holds about you (`exportMyData`).")
class Export:
    id: strawberry.ID
    status: ExportStatus
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime = strawberry.field(
        description="After this the archive is deleted and can no longer be downloaded."
    )
    size_bytes: float | None = strawberry.field(description="Archive size (zip), once ready.")
    error: str | None = strawberry.field(description="Why the build failed (a code).")
    _record: strawberry.Private[ExportRecord]

    @strawberry.field(
        description="When READY: a link to the zip, valid 15 minutes, needing no "
        "Authorization header (treat it as a secret). Each read gives a fresh link."
    )
    def download_url(self, info: Info[Context, None]) -> str | None:
        if self.status is not ExportStatus.READY:
            return None
        settings = info.context.runtime.settings
        signer = signer_from_settings(settings.lifeos_master_key, settings.lifeos_data_dir)
        return signer.url(settings.public_base_url, str(self.id))

    @classmethod
    def from_model(cls, model: ExportRecord) -> Export:
        return cls(
            id=strawberry.ID(encode_global_id("Export", model.id)),
            status=ExportStatus(model.status.value),
            created_at=model.created_at,
            ready_at=model.ready_at,
            expires_at=model.expires_at,
            size_bytes=float(model.size_bytes) if model.size_bytes is not None else None,
            error=model.error,
            _record=model,
        )


@strawberry.type(description="Rows removed from one table.")
class TableCount:
    table: str
    rows: int


@strawberry.type(description="Proof of an erasure: what was removed, sealed by a digest.")
class ErasureReceipt:
    erased_at: datetime
    pseudonym: str = strawberry.field(
        description="The id your audit trail keeps; nothing links it to you any more."
    )
    counts: list[TableCount]
    digest: str = strawberry.field(
        description="Hex SHA-256 of the canonical receipt (sorted counts, pseudonym, "
        "erasedAt); the `account.erased` audit row holds the same digest."
    )
    vector_index_purged: bool = strawberry.field(
        description="False if the vector index could not be reached (an operator re-runs it)."
    )

    @classmethod
    def from_model(cls, model: ReceiptModel) -> ErasureReceipt:
        return cls(
            erased_at=model.erased_at,
            pseudonym=model.pseudonym,
            counts=[TableCount(table=c.table, rows=c.rows) for c in model.counts],
            digest=model.digest,
            vector_index_purged=model.vector_index_purged,
        )
