"""Requests that produce each documented status of the export download and the Clerk webhook.

Used by the OpenAPI contract test (test_rest_ingest): exports are built by a
real worker as in test_export, webhook bodies signed with svix as in
test_clerk_webhooks. Not fixtures: each takes the scenario world.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import httpx

from lifeos_gql.config import Settings
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.rest.clerk_webhooks import MAX_BODY_BYTES
from lifeos_gql.rest.exports import url_signer
from tests.helpers import bearer
from tests.integration.privacy_world import app_client, ok, run_jobs, runtime_of
from tests.integration.test_clerk_webhooks import ISSUER, SECRET, URL, signed, user_data


class ScenarioWorld(Protocol):
    client: Any
    settings: Settings
    alice: str


# --- GET /v1/exports/{exportId} -------------------------------------------------------------


async def ready_export_path(w: ScenarioWorld) -> str:
    """Path and query of the signed link to a READY export of Alice's."""
    await ok(w.client, "mutation { exportMyData { id } }", w.alice)
    await run_jobs(runtime_of(w.client), ["exports"])
    query = "{ me { exports { status downloadUrl } } }"
    [export] = (await ok(w.client, query, w.alice))["me"]["exports"]
    assert export["status"] == "READY", export
    parts = urlsplit(export["downloadUrl"])
    return f"{parts.path}?{parts.query}"


def signed_export_path(w: ScenarioWorld, export_ref: str) -> str:
    """A genuine, unexpired link to ``export_ref`` (whether or not it exists)."""
    expires, sig = url_signer(runtime_of(w.client)).sign(export_ref)
    return f"/v1/exports/{export_ref}?{urlencode({'expires': expires, 'sig': sig})}"


async def download_export(w: ScenarioWorld) -> httpx.Response:
    response: httpx.Response = await w.client.get(await ready_export_path(w))
    return response


async def export_with_bad_credential(w: ScenarioWorld) -> httpx.Response:
    path = signed_export_path(w, encode_global_id("Export", uuid.uuid4()))
    response: httpx.Response = await w.client.get(path, headers=bearer("bad"))
    return response


async def export_with_forged_link(w: ScenarioWorld) -> httpx.Response:
    path = signed_export_path(w, encode_global_id("Export", uuid.uuid4()))
    forged = path.rsplit("sig=", 1)[0] + "sig=" + "0" * 64
    response: httpx.Response = await w.client.get(forged)
    return response


async def unknown_export(w: ScenarioWorld) -> httpx.Response:
    path = signed_export_path(w, encode_global_id("Export", uuid.uuid4()))
    response: httpx.Response = await w.client.get(path)
    return response


# --- POST /v1/webhooks/clerk ------------------------------------------------------------------


@asynccontextmanager
async def clerk_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, with Clerk webhooks configured."""
    configured = settings.model_copy(
        update={"clerk_webhook_secret": SECRET, "clerk_issuer": ISSUER}
    )
    async with app_client(configured) as http:
        yield http


async def post_webhook(
    client: Any, signed_event: tuple[bytes, dict[str, str]], **headers: str
) -> httpx.Response:
    body, signed_headers = signed_event
    response: httpx.Response = await client.post(
        URL, content=body, headers={**signed_headers, **headers}
    )
    return response


async def webhook_outcomes(w: ScenarioWorld) -> list[httpx.Response]:
    """Every kind of 200: created, duplicate, deleted unknown, deleted and erased."""
    async with clerk_client(w.settings) as client:
        created = signed("user.created", user_data("user_ada", "ada@x.test"))
        return [
            await post_webhook(client, created),
            await post_webhook(client, created),
            await post_webhook(client, signed("user.deleted", {"id": "user_never"})),
            await post_webhook(client, signed("user.deleted", {"id": "user_ada"})),
        ]


async def webhook_erases_a_user(w: ScenarioWorld) -> httpx.Response:
    async with clerk_client(w.settings) as client:
        created = await post_webhook(client, signed("user.created", user_data("user_b", "b@x")))
        assert created.status_code == 200, created.text
        return await post_webhook(client, signed("user.deleted", {"id": "user_b", "deleted": True}))


async def webhook_other_event(w: ScenarioWorld) -> httpx.Response:
    async with clerk_client(w.settings) as client:
        return await post_webhook(client, signed("session.created", {"id": "sess_1"}))


async def webhook_without_user_id(w: ScenarioWorld) -> httpx.Response:
    async with clerk_client(w.settings) as client:
        return await post_webhook(client, signed("user.created", {"object": "user"}))


async def webhook_forged(w: ScenarioWorld) -> httpx.Response:
    async with clerk_client(w.settings) as client:
        event = signed("user.created", user_data("user_evil", "evil@x.test"))
        return await post_webhook(client, event, **{"svix-signature": "v1," + "A" * 44})


async def webhook_with_ingest_token(w: ScenarioWorld, token: str) -> httpx.Response:
    event = signed("user.created", user_data("user_x", "x@x.test"))
    return await post_webhook(w.client, event, **bearer(token))


async def webhook_too_large(w: ScenarioWorld) -> httpx.Response:
    async with clerk_client(w.settings) as client:
        padding = "x" * MAX_BODY_BYTES
        event = signed("user.created", user_data("user_big", "big@x.test", padding=padding))
        return await post_webhook(client, event)


async def webhook_not_configured(w: ScenarioWorld) -> httpx.Response:
    # The scenario world has no CLERK_WEBHOOK_SECRET / CLERK_ISSUER.
    assert not w.settings.clerk_webhook_secret
    return await post_webhook(w.client, signed("user.created", user_data("user_x", "x@x.test")))
