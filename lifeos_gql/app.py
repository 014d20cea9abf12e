"""Starlette app factory and the lifespan that owns engines and clients."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from lifeos_gql.api.authn import Authenticator
from lifeos_gql.api.graphiql import graphiql_static_app
from lifeos_gql.api.middleware import AuthMiddleware, RequestIdMiddleware
from lifeos_gql.api.schema import build_schema
from lifeos_gql.api.subscriptions.dispatcher import EventDispatcher
from lifeos_gql.api.subscriptions.stats import subscription_stats
from lifeos_gql.api.view import LifeOSGraphQL
from lifeos_gql.bootstrap import open_runtime
from lifeos_gql.config import Settings, load_settings
from lifeos_gql.core.errors import ConfigError
from lifeos_gql.db import migrate
from lifeos_gql.infra.auth.dev_issuer import DevIssuer
from lifeos_gql.infra.auth.factory import build_verifier
from lifeos_gql.infra.embeddings.factory import build_embedder
from lifeos_gql.infra.vectors.factory import build_vector_index
from lifeos_gql.jobs.worker import start_inprocess_worker
from lifeos_gql.rest.routes import rest_routes
from lifeos_gql.runtime import Runtime

log = logging.getLogger("lifeos_gql")


async def _connect_redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    client = Redis.from_url(settings.redis_url)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        raise ConfigError(f"REDIS_URL: cannot reach Redis ({exc.__class__.__name__})") from exc
    return client


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, pool_size=settings.database_pool_size) as core:
            http = httpx.AsyncClient(timeout=10.0)
            redis = await _connect_redis(settings)
            verifier = build_verifier(settings, http_client=http)
            # The local model loads on its first query, on the embedder's own
            # thread: start-up does not wait for it.
            embedder = build_embedder(settings)
            vectors = build_vector_index(settings, core.db, producer=embedder.name)
            app.state.runtime = Runtime(
                settings=settings,
                database_url=core.database_url,
                db=core.db,
                # RLS wall on ``db``; authentication runs before the user is known.
                privileged_db=core.system_db,
                authenticator=Authenticator(verifier, core.system_db),
                capture_crypto=core.capture_crypto,
                redis=redis,
                embedder=embedder,
                vectors=vectors,
                migration_head=await asyncio.to_thread(migrate.head_revision, core.database_url),
            )
            # One event listener per process feeds this process's subscriptions.
            dispatcher = EventDispatcher(
                app.state.runtime,
                queue_size=settings.lifeos_ws_queue_size,
                max_per_user=settings.lifeos_ws_max_subscriptions_per_user,
                credential_recheck_seconds=settings.lifeos_ws_credential_recheck_seconds,
            )
            app.state.runtime.events = core.events
            app.state.runtime.subscriptions = dispatcher
            if core.events is not None:
                await dispatcher.start(core.events)
            log.info(
                "LifeOS ready on http://%s:%s/graphql", settings.lifeos_host, settings.lifeos_port
            )
            # Start-up objects (schema, modules, pools) live as long as the
            # app: freezing them keeps full collections, which the many
            # objects of a 1,000-item request trigger, from rescanning them
            # (they cost ~30 ms a batch in bench/ingest.py before this).
            # Unfrozen at shutdown, so an app's garbage stays collectable in
            # processes that build several (tests).
            gc.freeze()
            try:
                async with start_inprocess_worker(core):
                    yield
            finally:
                gc.unfreeze()
                await dispatcher.stop()
                await app.state.runtime.authenticator.failures.aclose()  # pending auth failures
                await vectors.aclose()
                await embedder.aclose()
                await http.aclose()
                if redis is not None:
                    await redis.aclose()

    view = LifeOSGraphQL(
        build_schema(settings),
        allowed_origins=settings.lifeos_cors_origins,
        # The legacy graphql-ws protocol is off: one protocol to keep safe.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=settings.lifeos_ws_max_subscriptions_per_connection,
        connection_init_wait_timeout=timedelta(seconds=settings.lifeos_ws_init_timeout_seconds),
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            async with runtime.db.engine.connect() as conn:  # the request path's login
                await conn.execute(text("SELECT 1"))
            async with runtime.system_db.engine.connect() as conn:
                row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "reason": f"database: {exc.__class__.__name__}"},
                status_code=503,
            )
        head = runtime.migration_head
        current = row[0] if row else None
        if current != head:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "reason": "migrations pending",
                    "current": current,
                    "head": head,
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready", "revision": current})

    async def dev_jwks(request: Request) -> Response:
        return JSONResponse(DevIssuer.load_or_create(settings.lifeos_data_dir).jwks())

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/healthz/subscriptions", subscription_stats, methods=["GET"]),
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Mount("/static/graphiql", app=graphiql_static_app(), name="graphiql-static"),
        *rest_routes(),
    ]
    if not settings.is_prod:
        routes.append(Route("/.well-known/dev-jwks.json", dev_jwks, methods=["GET"]))

    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.lifeos_cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id"],
            max_age=600,
        ),
        Middleware(AuthMiddleware),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
