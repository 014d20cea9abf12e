"""Graph query latency and the nested-query throughput, on ``make bench-data``'s graph.

``make bench-graph`` (``python -m bench.graph`` from the repository root)
uses the data generated in ``bench/data/`` (run ``bench/graph_data.py``
first) and measures, in one run, interleaving the variants call by call:

* **server-side** time: the GraphQL operation executed in this process by
  the real schema (``build_schema``) with a real per-request context (the
  app's lifespan makes the runtime), timed around ``schema.execute`` plus
  closing the request's transaction — what the server spends on it;
* **HTTP** time: the same operations sent with httpx to the real server
  (``lifeos-gql serve`` in a subprocess on 127.0.0.1) with a dev token;

for a 2-hop ``neighbors`` capped at 200 nodes, ``path`` with maxDepth 4,
and ``search`` top 20 (p50/p95; each only when the schema has the field),
and the nested query ``me { streams(first:10) { … captures(first:10) { …
insights { sources { id } } edges(first:5) { to { id } } } } }`` in
requests/second with the DataLoaders against the resolver-per-row baseline
of ``bench/naive_schema.py`` (same data, same connection type, answers
compared for equality), with the SQL statements each one issues.

Every loop is bounded by a count and a time budget. Writes
``bench/results/graph.json`` (``--only`` runs some parts, for iterating, and
writes ``bench/results/graph-partial.json`` instead, so the full record stays).

    python -m bench.graph [--iterations 30] [--nested-iterations 12] [--budget 40]
                          [--only nested,neighbors,path,search]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psycopg
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from bench.graph_data import DATA_DIR, EMAIL, TOPICS, read_manifest, settings_for
from bench.naive_schema import NaiveContext, naive_schema
from lifeos_gql.api.bulk import install_bulk_resolvers
from lifeos_gql.api.context import make_context
from lifeos_gql.api.errors import ErrorShaping
from lifeos_gql.api.resolvers.mutation import Mutation
from lifeos_gql.api.resolvers.query import Query
from lifeos_gql.api.scalars import SCALAR_MAP
from lifeos_gql.api.schema import LifeOSSchema, build_schema
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.edge import Edge
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.stream import Stream
from lifeos_gql.api.types.user import User
from lifeos_gql.app import create_app
from lifeos_gql.config import Settings
from lifeos_gql.core.actor import Actor
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.db.embedded import start_embedded_postgres
from lifeos_gql.db.engine import count_statements
from lifeos_gql.db.uow import RequestReader
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.infra.auth.dev_issuer import DevIssuer

RESULTS = Path(__file__).resolve().parent / "results" / "graph.json"
PARTIAL_RESULTS = RESULTS.with_name("graph-partial.json")
PARTS = ("nested", "neighbors", "path", "search")
START_TIMEOUT = 300.0  # the first start after new migrations indexes 1M edges
TARGETS_MS = {"neighbors": 20.0, "path": 50.0, "search": 50.0}

NESTED = """{ me { streams(first: 10) { nodes { captures(first: 10) { nodes {
    insights { sources { id } }
    edges(first: 5) { to { id } }
} } } } } }"""
NEIGHBORS = """query($id: ID!) {
  neighbors(id: $id, depth: 2, first: 200) { nodes { id } edges { id relation } }
}"""
PATH = """query($from: ID!, $to: ID!) {
  path(from: $from, to: $to, maxDepth: 4) { id relation }
}"""
SEARCH = """query($q: String!) {
  search(query: $q, first: 20) { edges { cursor score snippet node { id } } }
}"""
SEARCH_TERMS = [
    "marathon training", "sourdough bread", "kyoto temple", "budget taxes", "guitar practice",
    "sleep routine", "interview candidate", "heat pump insulation", "jogging in the rain",
    "Jane Smith", "compost seedlings", "first principles",
]  # fmt: skip

Operation = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/n in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2), "n": len(ms)}


async def timed_loop(
    runs: list[Operation], variables: list[dict[str, Any]], iterations: int, budget: float
) -> tuple[list[list[float]], list[dict[str, Any]]]:
    """Time each of ``runs`` on the same inputs, interleaved call by call.

    Two warm-up rounds, then up to ``iterations`` rounds within ``budget``
    seconds; interleaving gives every variant the same cache state and the
    same background load. Returns seconds per run and the first run's answers.
    """
    for v in variables[:2]:
        for run in runs:
            await run(v)
    samples: list[list[float]] = [[] for _ in runs]
    answers = []
    deadline = time.perf_counter() + budget
    for i in range(iterations):
        v = variables[i % len(variables)]
        for k, run in enumerate(runs):
            started = time.perf_counter()
            answer = await run(v)
            samples[k].append(time.perf_counter() - started)
            if k == 0:
                answers.append(answer)
        if time.perf_counter() > deadline:
            break
    return samples, answers


# ---- in-process execution ----------------------------------------------------


def fake_request(app: Starlette) -> Request:
    """The ASGI scope a context needs; no socket is involved."""
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": [],
             "query_string": b"", "app": app}  # fmt: skip
    return Request(scope)


@asynccontextmanager
async def in_process(data_dir: Path, db_url: str) -> AsyncIterator[Starlette]:
    """The real app's lifespan (runtime, engine, crypto) without serving HTTP."""
    settings = settings_for(data_dir, db_url).model_copy(update={"lifeos_inprocess_worker": False})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.schema, app.state.preview = bench_schema(settings)
        yield app


def bench_schema(settings: Settings) -> tuple[strawberry.Schema, list[str]]:
    """The app's schema; plus, until the lead merges them, the new root query types.

    GraphQueries (neighbors, path) and SearchQueries (search) are written
    apart from ``Query``; while the served schema lacks a field, the bench
    merges the type in here so its server-side time can be measured
    in-process (HTTP then waits for the merge). Returns the schema and the
    fields added this way.
    """
    schema = build_schema(settings)
    served = schema._schema.query_type.fields if schema._schema.query_type else {}
    parts: list[type] = []
    added: list[str] = []
    for module, name, fields in (
        ("lifeos_gql.api.resolvers.graph_queries", "GraphQueries", ("neighbors", "path")),
        ("lifeos_gql.api.resolvers.search", "SearchQueries", ("search",)),
    ):
        if all(f in served for f in fields):
            continue
        try:
            parts.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
        added += [f for f in fields if f not in served]
    if not parts:
        return schema, []
    merged = merge_types("Query", (Query, *parts))
    preview = LifeOSSchema(
        query=merged,
        mutation=Mutation,
        types=[User, Stream, Capture, Insight, Concept, Edge],
        extensions=[
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            ErrorShaping,
        ],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    install_bulk_resolvers(preview)
    return preview, added


def api_runner(app: Starlette, owner: uuid.UUID, query: str) -> Operation:
    """Execute ``query`` with the real schema and a fresh per-request context."""
    schema: strawberry.Schema = app.state.schema
    actor = Actor(user_id=owner, via="dev-jwt")

    async def run(variables: dict[str, Any]) -> dict[str, Any]:
        ctx = make_context(
            request=fake_request(app), response=None, runtime=app.state.runtime,
            actor=actor, request_id="bench",
        )  # fmt: skip
        try:
            result = await schema.execute(query, variable_values=variables, context_value=ctx)
        finally:
            await ctx.close()
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {[e.message for e in result.errors]}")
        return result.data or {}

    return run


def naive_runner(app: Starlette, owner: uuid.UUID) -> Operation:
    """The nested query through the resolver-per-row baseline."""
    db = app.state.runtime.db

    async def run(variables: dict[str, Any]) -> dict[str, Any]:
        reader = RequestReader(db, owner)
        try:
            result = await naive_schema.execute(
                NESTED, variable_values=variables, context_value=NaiveContext(owner, reader)
            )
        finally:
            await reader.close()
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {[e.message for e in result.errors]}")
        return result.data or {}

    return run


def has_root_field(app: Starlette, name: str) -> bool:
    schema: strawberry.Schema = app.state.schema
    query_type = schema._schema.query_type
    return query_type is not None and name in query_type.fields


# ---- the server over HTTP ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db_url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``lifeos-gql serve`` on the bench data; waits (bounded) for /healthz."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LIFEOS_", "REDIS_", "OPENAI_"))
    }
    env.update(
        DATABASE_URL=db_url,
        LIFEOS_DATA_DIR=str(data_dir),
        LIFEOS_HOST="127.0.0.1",
        LIFEOS_PORT=str(port),
        LIFEOS_LOG_LEVEL="warning",
        LIFEOS_INPROCESS_WORKER="false",  # nothing is pending; keep the CPU for requests
    )
    log_path = data_dir / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: nobody reads it during the run
    process = subprocess.Popen(
        [sys.executable, "-m", "lifeos_gql.cli", "serve"], env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"server exited ({process.returncode}):\n{log_path.read_text()[-3000:]}"
            )
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling a readiness probe, bounded by the deadline
    process.kill()
    raise SystemExit("server did not become healthy in time")


def http_runner(client: httpx.AsyncClient, query: str) -> Operation:
    async def run(variables: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps({"query": query, "variables": variables})
        response = await client.post("/graphql", content=body)
        response.raise_for_status()
        payload: dict[str, Any] = orjson.loads(response.content)
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload.get("data") or {}

    return run


# ---- probes --------------------------------------------------------------------


def probes(db_url: str, owner: uuid.UUID, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Seeded, varied start nodes: random captures (hubs and leaves alike) and concepts."""
    rng = np.random.default_rng(seed + 1)
    with psycopg.connect(libpq_url(db_url)) as conn:
        captures = [r[0] for r in conn.execute(
            "SELECT id FROM captures WHERE owner_id = %s ORDER BY id", (owner,))]  # fmt: skip
        concepts = [r[0] for r in conn.execute(
            "SELECT id FROM concepts WHERE owner_id = %s ORDER BY id", (owner,))]  # fmt: skip
    cap = [captures[int(i)] for i in rng.choice(len(captures), 60, replace=False)]
    con = [concepts[int(i)] for i in rng.choice(len(concepts), 10, replace=False)]
    starts = [encode_global_id("Capture", c) for c in cap[:30]]
    starts[::4] = [encode_global_id("Concept", c) for c in con[: len(starts[::4])]]
    pairs = [
        {"from": encode_global_id("Capture", a), "to": encode_global_id("Capture", b)}
        for a, b in zip(cap[30:45], cap[45:60])
    ]
    return {
        "neighbors": [{"id": s} for s in starts],
        "path": pairs,
        "search": [{"q": q} for q in SEARCH_TERMS],
    }


def summarise_answers(name: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """What the answers held (so a fast empty answer is visible as such)."""
    if name == "neighbors":
        sizes = [len(a["neighbors"]["nodes"]) for a in answers]
        return {"nodes_median": statistics.median(sizes), "nodes_max": max(sizes)}
    if name == "path":
        lengths = [len(a["path"]) for a in answers if a["path"] is not None]
        found = len(lengths) / len(answers)
        return {"found_share": round(found, 2), "hops_median": statistics.median(lengths or [0])}
    hits = [len(a["search"]["edges"]) for a in answers]
    return {"hits_median": statistics.median(hits)}


# ---- the run ---------------------------------------------------------------------


async def nested_comparison(
    app: Starlette, http: httpx.AsyncClient, owner: uuid.UUID, iterations: int, budget: float
) -> dict[str, Any]:
    """Loaders vs the naive baseline on the nested query: rps, statements, equal answers."""
    loaders, naive = api_runner(app, owner, NESTED), naive_runner(app, owner)
    with count_statements() as real_sql:
        real_answer = await loaders({})
    with count_statements() as naive_sql:
        naive_answer = await naive({})
    out: dict[str, Any] = {
        "same_answer": real_answer == naive_answer,
        "captures_in_answer": sum(
            len(s["captures"]["nodes"]) for s in real_answer["me"]["streams"]["nodes"]
        ),
        "statements": {"loaders": len(real_sql), "naive": len(naive_sql)},
    }
    labels = ("loaders", "naive", "loaders_http")
    runs = [loaders, naive, http_runner(http, NESTED)]
    per_run, _ = await timed_loop(runs, [{}], iterations, budget)
    for label, samples in zip(labels, per_run):
        out[label] = {**percentiles(samples), "rps": round(len(samples) / sum(samples), 2)}
    out["ratio_loaders_over_naive"] = round(out["loaders"]["rps"] / out["naive"]["rps"], 2)
    return out


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    data_dir: Path = args.data_dir.resolve()
    manifest = read_manifest(data_dir)
    if manifest is None:
        raise SystemExit(f"no generated data in {data_dir}: run `make bench-data` first")
    db_url = start_embedded_postgres(data_dir)  # stopped when this process exits
    owner = uuid.UUID(manifest["owner_id"])
    load_before = [round(x, 2) for x in os.getloadavg()]
    server, base = start_server(db_url, data_dir)
    token = DevIssuer.load_or_create(data_dir).mint(EMAIL, name="Bench")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    results: dict[str, Any] = {}
    try:
        async with (
            in_process(data_dir, db_url) as app,
            httpx.AsyncClient(base_url=base, headers=headers, timeout=120.0) as http,
        ):
            if "nested" in args.only:
                results["nested"] = await nested_comparison(
                    app, http, owner, args.nested_iterations, args.budget
                )
            variables = probes(db_url, owner, manifest["shape"]["seed"])
            queries = {"neighbors": NEIGHBORS, "path": PATH, "search": SEARCH}
            for name, query in queries.items():
                if name not in args.only:
                    continue
                if not has_root_field(app, name):
                    results[name] = {"status": "not in the schema yet"}
                    continue
                try:
                    runs = [api_runner(app, owner, query)]
                    if name not in app.state.preview:  # served: time HTTP alongside
                        runs.append(http_runner(http, query))
                    per_run, answers = await timed_loop(
                        runs, variables[name], args.iterations, args.budget
                    )
                    server_s, http_s = per_run[0], per_run[1] if len(per_run) > 1 else []
                except RuntimeError as exc:
                    results[name] = {"status": f"failed: {exc}"[:500]}
                    continue
                inside = percentiles(server_s)
                results[name] = {
                    "server": inside,
                    "http": percentiles(http_s)
                    if http_s
                    else "not served yet (bench-merged field)",
                    "schema": "bench-merged preview" if name in app.state.preview else "served",
                    "answers": summarise_answers(name, answers),
                    "target_p50_ms": TARGETS_MS[name],
                    "meets_target": inside["p50_ms"] < TARGETS_MS[name],
                }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "benchmark": "graph",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            # 1/5/15-minute load averages: the 2 CPUs may be shared (figures are noisy).
            "load_average": {
                "before": load_before,
                "after": [round(x, 2) for x in os.getloadavg()],
            },
        },
        "data": {"counts": manifest["counts"], "seed": manifest["shape"]["seed"]},
        "notes": (
            "server = schema.execute in-process with the app's runtime and a per-request "
            "context; http = the real server over loopback. Probes: seeded random captures and "
            "concepts (every 4th start is a concept), random capture pairs for path, "
            f"{len(TOPICS)}-topic corpus search terms."
        ),
        **results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30, help="timed calls per query")
    parser.add_argument(
        "--nested-iterations", type=int, default=12, help="rounds of the 3 variants"
    )
    parser.add_argument("--budget", type=float, default=40.0, help="seconds per timed loop")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--only",
        type=lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
        default=PARTS,
        help=f"comma-separated parts to run (default all: {','.join(PARTS)})",
    )
    args = parser.parse_args()
    if unknown := set(args.only) - set(PARTS):
        parser.error(f"--only: unknown parts {sorted(unknown)}; choose from {PARTS}")
    result = asyncio.run(run_all(args))
    out = RESULTS if set(args.only) == set(PARTS) else PARTIAL_RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "data"}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
