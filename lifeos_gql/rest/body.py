"""Read a request body with a hard cap, never more than the cap into memory."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from lifeos_gql.core.errors import BadInput, PayloadTooLarge
from lifeos_gql.domains.captures.models import CaptureLimits

HARD_CAP_BYTES = 32 * 1024 * 1024
# Title (1,000 chars), externalId (512) and JSON punctuation of one item.
ITEM_OVERHEAD_BYTES = 4 * 1024
ENVELOPE_BYTES = 64 * 1024


def max_request_bytes(limits: CaptureLimits) -> int:
    """The largest body worth reading: a full batch of full items, within 32 MiB.

    Content and data count twice: JSON escaping (quotes, newlines) can
    double their size on the wire.
    """
    per_item = 2 * (limits.max_content_bytes + limits.max_payload_bytes) + ITEM_OVERHEAD_BYTES
    return min(HARD_CAP_BYTES, limits.max_batch_items * per_item + ENVELOPE_BYTES)


class ClientGone(Exception):
    """The client disconnected before sending its whole body."""


async def read_capped(request: Request, cap: int) -> bytes:
    """The body, or ``PayloadTooLarge`` as soon as it is known to exceed ``cap``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadInput("Content-Length must be a number", field="Content-Length")
        if int(declared) > cap:
            raise _too_large(cap)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                raise _too_large(cap)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise ClientGone() from exc
    return b"".join(chunks)


def _too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {cap} bytes; send fewer items per request",
        limit=cap,
    )
