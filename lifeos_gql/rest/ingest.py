"""``POST /v1/streams/{streamId}/captures``: captures from devices and scripts.

Order of checks: credential (middleware), stream and role (one short read
transaction, before the body is read, so strangers learn nothing about
their body and cannot make us buffer it), content type, capped body,
parsing, then one capture transaction (the service checks roles again).

Status: 201 if no item is invalid and at least one was created; 200 if all
were duplicates; 207 if some items are invalid and others are not; 422 if
every item is invalid. The body always lists every item's outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.errors import (
    BadInput,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
)
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.captures.models import CaptureDraft, IngestOutcome, IngestStatus
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.ingest import capture_drafts
from lifeos_gql.rest.body import ClientGone, max_request_bytes, read_capped
from lifeos_gql.rest.errors import UnsupportedMediaType, json_error
from lifeos_gql.rest.items import Item, ItemError, parse_json_body, to_draft
from lifeos_gql.rest.upload import parse_upload
from lifeos_gql.runtime import Runtime

JSON_TYPES = ("application/json",)
MULTIPART = "multipart/form-data"


async def post_captures(request: Request) -> Response:
    """The endpoint: every expected failure is a JSON error, never a 500."""
    try:
        return await _post_captures(request)
    except ClientGone:
        return Response(status_code=400)  # nobody is listening any more
    except DomainError as error:
        return json_error(request, error)


def _stream_id(request: Request, actor: Actor) -> uuid.UUID:
    try:
        stream_id = decode_global_id(request.path_params["stream_id"], expected="Stream").id
    except BadInput as exc:
        raise NotFound("Stream not found", field="streamId") from exc
    if actor.stream_id is not None and actor.stream_id != stream_id:
        # A token for another stream answers like a missing stream.
        raise NotFound("Stream not found", field="streamId")
    return stream_id


def _media_type(request: Request) -> str:
    raw = request.headers.get("content-type", "")
    media = raw.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json")):
        return "json"
    if media == MULTIPART:
        return "multipart"
    raise UnsupportedMediaType(
        f"Send application/json or multipart/form-data, not {media or 'no Content-Type'}",
        field="Content-Type",
    )


async def _post_captures(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    actor: Actor = request.scope.get("state", {}).get("actor") or Actor.anonymous()
    if actor.user_id is None:
        raise Unauthenticated("Send 'Authorization: Bearer <JWT or ingest token>'")
    if Scope.WRITE not in actor.scopes:
        raise Forbidden("This token lacks the WRITE scope", reason="missing_scope", scope="WRITE")
    stream_id = _stream_id(request, actor)
    async with runtime.db.transaction(actor.user_id) as uow:
        await sharing.require_stream_role(
            uow=uow,
            actor=actor,
            stream_id=stream_id,
            allowed=policy.can_capture,
            action="add captures to this stream",
        )
    kind = _media_type(request)
    limits = runtime.capture_limits
    body = await read_capped(request, max_request_bytes(limits))
    items: list[Item]
    if kind == "json":
        raw_items = parse_json_body(body)
        if len(raw_items) > limits.max_batch_items:
            raise PayloadTooLarge(
                f"{len(raw_items)} items; a request holds at most {limits.max_batch_items}",
                field="items",
            )
        items = [to_draft(stream_id, raw) for raw in raw_items]
    else:
        items = [await parse_upload(request, body, stream_id)]

    drafts = [item for item in items if isinstance(item, CaptureDraft)]
    outcomes: list[IngestOutcome] = []
    if drafts:
        outcomes = await capture_drafts(
            runtime, actor, drafts, idempotency_key=request.headers.get("idempotency-key")
        )
    return _response(items, outcomes)


def _response(items: Sequence[Item], outcomes: Sequence[IngestOutcome]) -> Response:
    pending = iter(outcomes)
    results = [
        _item_error(index, item) if isinstance(item, ItemError) else _outcome(index, next(pending))
        for index, item in enumerate(items)
    ]
    counts = {status: 0 for status in IngestStatus}
    for result in results:
        counts[IngestStatus(result["status"])] += 1
    body = {
        "results": results,
        "created": counts[IngestStatus.CREATED],
        "duplicates": counts[IngestStatus.DUPLICATE],
        "invalid": counts[IngestStatus.INVALID],
    }
    return Response(
        orjson.dumps(body),
        status_code=status_for(
            created=counts[IngestStatus.CREATED],
            invalid=counts[IngestStatus.INVALID],
            total=len(results),
        ),
        media_type="application/json",
    )


def status_for(*, created: int, invalid: int, total: int) -> int:
    """201 created, 200 nothing new, 207 partly invalid, 422 all invalid."""
    if invalid == 0:
        return 201 if created else 200
    return 422 if invalid == total else 207


def _item_error(index: int, error: ItemError) -> dict[str, Any]:
    return {
        "index": index,
        "status": IngestStatus.INVALID.value,
        "id": None,
        "duplicateReason": None,
        "error": {"code": error.code, "message": error.message, "field": error.field},
    }


def _outcome(index: int, outcome: IngestOutcome) -> dict[str, Any]:
    invalid = outcome.status is IngestStatus.INVALID
    return {
        "index": index,
        "status": outcome.status.value,
        "id": encode_global_id("Capture", outcome.capture.id) if outcome.capture else None,
        "duplicateReason": outcome.duplicate_reason.value if outcome.duplicate_reason else None,
        "error": (
            {"code": outcome.code, "message": outcome.message, "field": outcome.field}
            if invalid
            else None
        ),
    }
