"""The privacy domain's use cases, for the API, REST and jobs layers.

Export (:mod:`.export`), erasure (:mod:`.erasure`), Clerk user sync
(:mod:`.clerk_sync`) and download links (:mod:`.signed_urls`).
"""

from __future__ import annotations

from lifeos_gql.domains.privacy.clerk_sync import (
    ClerkUser,
    claim_delivery,
    subject_for,
    sync_user,
)
from lifeos_gql.domains.privacy.erasure import (
    Erasure,
    canonical_receipt,
    erase_my_account,
    erase_user,
    expected_confirmation,
    purge_outside_db,
    user_for_subject,
)
from lifeos_gql.domains.privacy.export import (
    EXPORT_TTL,
    QUEUE,
    TASK_NAME,
    Download,
    build_export,
    drop_expired_exports,
    exports_of_users,
    open_download,
    request_export,
)
from lifeos_gql.domains.privacy.signed_urls import LinkError, UrlSigner, signer_from_settings

__all__ = [
    "EXPORT_TTL",
    "QUEUE",
    "TASK_NAME",
    "ClerkUser",
    "Download",
    "Erasure",
    "LinkError",
    "UrlSigner",
    "build_export",
    "canonical_receipt",
    "claim_delivery",
    "drop_expired_exports",
    "erase_my_account",
    "erase_user",
    "expected_confirmation",
    "exports_of_users",
    "open_download",
    "purge_outside_db",
    "request_export",
    "signer_from_settings",
    "subject_for",
    "sync_user",
    "user_for_subject",
]
