"""Helpers shared by the GDPR tests (export, erasure, Clerk webhooks): not fixtures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text

from lifeos_gql.app import create_app
from lifeos_gql.config import Settings
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.jobs.services import open_analysis_services
from lifeos_gql.jobs.tasks import SERVICES_KEY, build_job_app
from lifeos_gql.runtime import Runtime
from tests.helpers import dev_token, gql


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in-process, lifespan included."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


def runtime_of(client: Any) -> Runtime:
    runtime: Runtime = client.app.state.runtime
    return runtime


async def ok(client: Any, query: str, token: str, **variables: Any) -> dict[str, Any]:
    """Run an operation that must succeed; returns ``data``."""
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def sign_in(client: Any, settings: Settings, email: str) -> tuple[str, uuid.UUID]:
    token = dev_token(settings.lifeos_data_dir, email)
    data = await ok(client, "{ me { id } }", token)
    return token, decode_global_id(data["me"]["id"]).id


async def new_stream(client: Any, token: str, name: str) -> str:
    data = await ok(
        client,
        "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }",
        token,
        n=name,
    )
    return str(data["createStream"]["id"])


async def capture(client: Any, token: str, stream: str, content: str, **extra: Any) -> uuid.UUID:
    data = await ok(
        client,
        "mutation($i: CaptureInput!) { capture(input: $i) { capture { id } } }",
        token,
        i={"streamId": stream, "content": content, **extra},
    )
    return decode_global_id(data["capture"]["capture"]["id"]).id


async def share(client: Any, token: str, stream: str, email: str, role: str) -> None:
    await ok(
        client,
        "mutation($s: ID!, $e: String!, $r: Role!) {"
        " shareStream(streamId: $s, email: $e, role: $r) { id } }",
        token,
        s=stream,
        e=email,
        r=role,
    )


async def run_jobs(runtime: Runtime, queues: list[str]) -> None:
    """Process every queued job of ``queues`` with a real procrastinate worker, then return."""
    async with open_analysis_services(runtime) as services:
        app = build_job_app(runtime.database_url, runtime.settings, pool_size=2)
        async with app.open_async():
            await app.run_worker_async(
                queues=queues,
                wait=False,
                concurrency=1,
                install_signal_handlers=False,
                additional_context={SERVICES_KEY: services},
                delete_jobs="successful",
            )


async def rows(runtime: Runtime, sql: str, **params: Any) -> list[Any]:
    """Run ``sql`` on the privileged handle; its rows (none for a plain write)."""
    async with runtime.system_db.transaction() as uow:
        result = await uow.execute(text(sql), params)
        return list(result) if result.returns_rows else []
