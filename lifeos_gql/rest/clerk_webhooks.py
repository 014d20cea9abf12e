"""``POST /v1/webhooks/clerk``: Clerk's user events, Svix-signed.

- 503 ``NOT_CONFIGURED`` while ``CLERK_WEBHOOK_SECRET`` or ``CLERK_ISSUER``
  is unset: Svix keeps retrying (for days), so events sent before the
  endpoint is configured are not lost, and the operator sees why.
- 401 when the signature or its timestamp (±5 minutes) does not verify.
- ``user.created`` / ``user.updated``: provision or refresh the user (same
  subject as their JWTs); ``user.deleted``: the same erasure as
  ``eraseMyAccount``. 200 with what was done.
- A redelivered ``svix-id`` answers 200 ``duplicate`` and changes nothing;
  the delivery is remembered in the transaction that applies it, so a
  failed attempt (4xx/5xx) is applied by Svix's retry.
- Other event types: 204 (acknowledged, ignored).
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from svix.webhooks import Webhook, WebhookVerificationError

from lifeos_gql.core.errors import BadInput, DomainError, Unauthenticated
from lifeos_gql.domains.privacy import service as privacy
from lifeos_gql.rest.body import ClientGone, read_capped
from lifeos_gql.rest.errors import json_error
from lifeos_gql.runtime import Runtime

WEBHOOK_ROUTE = "/webhooks/clerk"
MAX_BODY_BYTES: Final = 256 * 1024
USER_EVENTS: Final = frozenset({"user.created", "user.updated", "user.deleted"})


class NotConfigured(DomainError):
    code = "NOT_CONFIGURED"
    http_status = 503


async def post_clerk_webhook(request: Request) -> Response:
    """The endpoint: every expected failure is a JSON error, never a 500."""
    try:
        return await _post(request)
    except ClientGone:
        return Response(status_code=400)
    except DomainError as error:
        return json_error(request, error)


def _verified_event(secret: str, body: bytes, request: Request) -> dict[str, Any]:
    try:
        hook = Webhook(secret)
    except Exception as exc:  # a malformed secret is the operator's, not the caller's, fault
        raise NotConfigured("CLERK_WEBHOOK_SECRET is not a valid Svix secret") from exc
    try:
        hook.verify(body, dict(request.headers))
    except WebhookVerificationError as exc:
        raise Unauthenticated("Webhook signature did not verify", reason="bad_signature") from exc
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadInput("The body is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise BadInput("Expected a Clerk event with a type", field="type")
    if not isinstance(event.get("data"), dict):
        raise BadInput("Expected a Clerk event with data", field="data")
    return event


async def _post(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    secret, issuer = settings.clerk_webhook_secret, settings.clerk_issuer
    if not secret or not issuer:
        raise NotConfigured("Clerk webhooks are not configured on this server")
    body = await read_capped(request, MAX_BODY_BYTES)
    event = _verified_event(secret, body, request)
    kind: str = event["type"]
    if kind not in USER_EVENTS:
        return Response(status_code=204)
    # The delivery id keys deduplication; the Svix library also verifies the
    # unbranded ``webhook-*`` headers, so take the id from either, never "".
    svix_id = request.headers.get("svix-id") or request.headers.get("webhook-id") or ""
    if not svix_id:
        raise BadInput("A webhook delivery needs its svix-id header", field="svix-id")
    clerk_user = privacy.ClerkUser.from_data(event["data"])
    erasure = None
    async with runtime.system_db.transaction() as uow:
        if not await privacy.claim_delivery(uow, svix_id, kind):
            return JSONResponse({"status": "duplicate"})
        if kind == "user.deleted":
            subject = privacy.subject_for(issuer, clerk_user.clerk_id)
            user_id = await privacy.user_for_subject(uow=uow, subject=subject)
            if user_id is not None:
                erasure = await privacy.erase_user(uow=uow, user_id=user_id)
        else:
            await privacy.sync_user(uow=uow, issuer=issuer, user=clerk_user, event=kind)
    if kind != "user.deleted":
        return JSONResponse({"status": "processed", "event": kind})
    if erasure is None:
        return JSONResponse({"status": "processed", "event": kind, "erased": False})
    receipt = await privacy.purge_outside_db(
        erasure,
        keys=runtime.capture_crypto.keys,
        vectors=runtime.vectors,
        redis=runtime.redis,
        forget=runtime.authenticator.forget_user,
        db=runtime.system_db,
    )
    return JSONResponse(
        {
            "status": "processed",
            "event": kind,
            "erased": True,
            "receipt": {
                "pseudonym": receipt.pseudonym,
                "erasedAt": receipt.erased_at.isoformat(),
                "digest": receipt.digest,
                "counts": {c.table: c.rows for c in receipt.counts},
                # False when the vector index could not be reached (the failure
                # is logged for an operator): the sender's delivery log shows it.
                "vectorIndexPurged": receipt.vector_index_purged,
            },
        }
    )
