"""``GET /v1/exports/{exportId}?expires=…&sig=…``: download a GDPR export archive.

No Authorization header: the signed, short-lived link is the credential
(``exportMyData``'s ``downloadUrl``). The signature and expiry are checked
before the database is touched (403 otherwise); a missing, unfinished,
expired or erased export is 404. The archive streams decrypted chunk by
chunk, is never cached, and each download is audited.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from lifeos_gql.core.errors import BadInput, DomainError, Forbidden, NotFound
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.privacy import service as privacy
from lifeos_gql.rest.errors import json_error
from lifeos_gql.runtime import Runtime

EXPORT_ROUTE = "/exports/{export_id}"


def url_signer(runtime: Runtime) -> privacy.UrlSigner:
    """The process's download-link signer (derived from the master key)."""
    settings = runtime.settings
    return privacy.signer_from_settings(settings.lifeos_master_key, settings.lifeos_data_dir)


async def get_export(request: Request) -> Response:
    """The endpoint: every expected failure is a JSON error, never a 500."""
    try:
        return await _get_export(request)
    except DomainError as error:
        return json_error(request, error)


async def _get_export(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    ref = request.path_params["export_id"]
    try:
        url_signer(runtime).check(
            ref, request.query_params.get("expires"), request.query_params.get("sig")
        )
    except privacy.LinkError as exc:
        raise Forbidden("This download link is invalid or has expired", reason=exc.reason) from exc
    try:
        export_id = decode_global_id(ref, expected="Export").id
    except BadInput as exc:
        raise NotFound("Export not found", field="exportId") from exc
    download = await privacy.open_download(
        db=runtime.system_db, crypto=runtime.capture_crypto, export_id=export_id
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{download.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        # The link is a credential: do not leak it to wherever the archive's reader goes.
        "Referrer-Policy": "no-referrer",
    }
    if download.export.size_bytes is not None:
        headers["Content-Length"] = str(download.export.size_bytes)
    return StreamingResponse(download.chunks, media_type="application/zip", headers=headers)
