"""Live subscriptions: memory of 10,000 idle subscriptions, fan-out latency to 1,000.

One run, one machine, loopback only, every wait bounded:

1. Starts an embedded Postgres in a temporary directory and one real server
   process (``lifeos-gql serve``) on it, with Redis as the event bus when
   ``REDIS_URL`` (default ``redis://127.0.0.1:6379``) answers, else Postgres
   NOTIFY. No analysis worker: the producer below plays the worker.
2. Sets up an owner with a stream, a capture and an insight, and shares the
   stream with ``--identities - 1`` viewers (``shareStream``; default 10
   identities): visibility is checked once per event and identity, and
   identical subscriptions of one identity share one execution.
3. Opens ``--connections`` WebSockets (default 1,000; raw ``websockets``
   clients speaking graphql-transport-ws) with ``--per-connection``
   subscriptions each (default 10): one ``insightAdded(streamId:)`` on the
   shared stream and the rest ``graphChanged``/``captureAnalyzed``, so
   10,000 subscriptions in all. Waits until the server reports them live and
   reads the server's RSS (``/proc/<pid>/status``) before and after.
4. Fan-out: ``--rounds`` times, this process (like an analysis worker)
   commits one ``INSIGHT_ADDED`` event through the same domain code and the
   same bus; latency is from just before the commit to each of the 1,000
   ``insightAdded`` subscribers receiving it (one clock: the receivers live
   in this process too, so their own CPU cost is included).
5. Prints and writes ``bench/results/subscriptions.json``; targets: RSS under
   500 MB with 10,000 subscriptions, fan-out p99 under 250 ms.

    python bench/subscriptions.py [--connections 1000] [--per-connection 10] [--rounds 5]
                                  [--identities 10] [--output PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets

from lifeos_gql.api.subscriptions.cursor import encode_event_cursor
from lifeos_gql.bootstrap import open_runtime
from lifeos_gql.config import Settings
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.db.embedded import start_embedded_postgres, stop_embedded_postgres
from lifeos_gql.domains.graph import repository as graph_repository
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.insights.models import NewInsight
from lifeos_gql.infra.auth.dev_issuer import DevIssuer

RESULTS = Path(__file__).resolve().parent / "results" / "subscriptions.json"
TARGET_RSS_MB = 500
TARGET_P99_MS = 250
START_TIMEOUT = 90.0
STEP_TIMEOUT = 300.0

FANOUT_QUERY = "subscription($s: ID) { insightAdded(streamId: $s) { cursor insight { id kind } } }"
IDLE_QUERIES = [
    "subscription { graphChanged { cursor change node { id } } }",
    "subscription { captureAnalyzed { cursor status capture { id } } }",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        return None
    finally:
        client.close()
    return url


def server_env(db_url: str, data_dir: Path, port: int, redis: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFEOS_", "REDIS_"))}
    env.update(
        DATABASE_URL=db_url,
        LIFEOS_DATA_DIR=str(data_dir),
        LIFEOS_HOST="127.0.0.1",
        LIFEOS_PORT=str(port),
        LIFEOS_LOG_LEVEL="warning",
        LIFEOS_INPROCESS_WORKER="false",
        LIFEOS_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION="100",
        LIFEOS_WS_MAX_SUBSCRIPTIONS_PER_USER="100000",
    )
    if redis:
        env["REDIS_URL"] = redis
    return env


def start_server(env: dict[str, str], work: Path) -> tuple[subprocess.Popen[bytes], str]:
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "lifeos_gql.cli", "serve"],
        env=env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{env['LIFEOS_PORT']}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit((work / "server.log").read_text(errors="replace"))
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a readiness probe, bounded by the deadline
    process.kill()
    raise SystemExit("server did not become healthy in time")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def gql(http: httpx.Client, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"setup failed: {body['errors']}")
    return body["data"]  # type: ignore[no-any-return]


def setup(base: str, issuer: DevIssuer, identities: int) -> tuple[list[str], str, str]:
    """(tokens of the owner and ``identities - 1`` viewers, shared stream id, capture id)."""
    owner = issuer.mint("owner@bench.example")
    viewers = [issuer.mint(f"viewer{n}@bench.example") for n in range(identities - 1)]
    with httpx.Client(base_url=base, timeout=60) as http:
        for token in viewers:
            gql(http, token, "{ me { id } }", {})  # sign up
        stream = gql(
            http,
            owner,
            'mutation { createStream(input: {name: "Shared", source: NOTE}) { id } }',
            {},
        )["createStream"]["id"]
        capture = gql(
            http,
            owner,
            "mutation($s: ID!) { capture(input: {streamId: $s, content: "
            '"Ran the Berlin half marathon with Maria."}) { capture { id } } }',
            {"s": stream},
        )["capture"]["capture"]["id"]
        for n in range(identities - 1):
            gql(
                http,
                owner,
                "mutation($s: ID!, $e: String!) { shareStream(streamId: $s, email: $e, "
                "role: VIEWER) { id } }",
                {"s": stream, "e": f"viewer{n}@bench.example"},
            )
    return [owner, *viewers], stream, capture


class Connection:
    """One raw graphql-transport-ws client; records arrival times of fan-out events."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.arrivals: dict[str, float] = {}  # insight cursor -> perf_counter
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, token: str, stream: str, subscriptions: int) -> Connection:
        ws = await websockets.connect(
            url, subprotocols=["graphql-transport-ws"], max_size=None, open_timeout=60
        )
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if ack["type"] != "connection_ack":
            raise SystemExit(f"not acknowledged: {ack}")
        messages = [{"id": "fan", "query": FANOUT_QUERY, "variables": {"s": stream}}]
        messages += [
            {"id": f"idle{n}", "query": IDLE_QUERIES[n % len(IDLE_QUERIES)], "variables": {}}
            for n in range(subscriptions - 1)
        ]
        for m in messages:
            payload = {"query": m["query"], "variables": m["variables"]}
            await ws.send(json.dumps({"id": m["id"], "type": "subscribe", "payload": payload}))
        conn = cls(ws)
        conn.task = asyncio.create_task(conn.read())
        return conn

    async def read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next" and message.get("id") == "fan":
                cursor = message["payload"]["data"]["insightAdded"]["cursor"]
                self.arrivals[cursor] = time.perf_counter()
            elif kind == "ping":
                await self.ws.send('{"type":"pong"}')
            elif kind == "error":
                raise SystemExit(f"subscription refused: {message}")

    async def close(self) -> None:
        await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def wait_live(base: str, count: int) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base) as http:
        while True:
            live = (await http.get("/healthz/subscriptions")).json()["subscriptions"]
            if live >= count:
                return time.monotonic() - started
            if time.monotonic() - started > STEP_TIMEOUT:
                raise SystemExit(f"only {live} of {count} subscriptions went live")
            await asyncio.sleep(0.2)  # polling a probe, bounded by STEP_TIMEOUT


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data_dir = work / "data"
    data_dir.mkdir()
    db_url = start_embedded_postgres(work)
    redis = redis_url()
    env = server_env(db_url, data_dir, free_port(), redis)
    process, base = start_server(env, work)
    connections: list[Connection] = []
    try:
        issuer = DevIssuer.load_or_create(data_dir)
        tokens, stream, capture = setup(base, issuer, args.identities)
        rss_before = rss_mb(process.pid)
        url = base.replace("http://", "ws://") + "/graphql"
        total = args.connections * args.per_connection
        opened = time.monotonic()
        for start in range(0, args.connections, 50):  # 50 connections at a time
            batch = range(start, min(start + 50, args.connections))
            connections += await asyncio.gather(
                *(
                    Connection.open(url, tokens[n % len(tokens)], stream, args.per_connection)
                    for n in batch
                )
            )
            # Paced like clients arriving over time, not one burst of 10,000.
            await wait_live(base, len(connections) * args.per_connection)
        live_after = await wait_live(base, total)
        setup_seconds = time.monotonic() - opened
        await asyncio.sleep(2.0)  # let the server settle before reading its memory
        rss_idle = rss_mb(process.pid)

        settings = Settings(
            _env_file=None,
            database_url=db_url,
            redis_url=redis,
            lifeos_data_dir=data_dir,
            lifeos_auto_migrate=False,
        )
        latencies: list[float] = []
        rounds: list[dict[str, float]] = []
        async with open_runtime(settings) as rt:
            owner_id = await owner_of(rt, stream)
            insight_id = await make_insight(rt, owner_id, decode_global_id(capture).id)
            for _ in range(args.rounds):
                sent = time.perf_counter()
                async with rt.system_db.transaction() as uow:
                    await graph_repository.append_events(
                        uow,
                        [
                            {
                                "owner_id": owner_id,
                                "stream_ids": [decode_global_id(stream).id],
                                "kind": "INSIGHT_ADDED",
                                "node_type": "insight",
                                "node_id": insight_id,
                                "payload": {"kind": "key_insight"},
                            }
                        ],
                    )
                    assert uow.events_max_id is not None
                    cursor = encode_event_cursor(uow.events_max_id)
                await wait_all(connections, cursor)
                got = [c.arrivals[cursor] - sent for c in connections]
                latencies += got
                rounds.append(
                    {
                        "p50_ms": percentile(got, 50),
                        "p99_ms": percentile(got, 99),
                        "max_ms": max(got) * 1000,
                    }
                )
                await asyncio.sleep(0.5)  # rounds apart, not overlapping
        rss_after = rss_mb(process.pid)
    finally:
        for conn in connections:
            await conn.close()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        stop_embedded_postgres(work)
    return {
        "bus": "redis" if redis else "postgres",
        "connections": args.connections,
        "subscriptions": args.connections * args.per_connection,
        "identities": len(tokens),
        "setup_seconds": round(setup_seconds, 1),
        "live_wait_seconds": round(live_after, 1),
        "server_rss_mb_before": round(rss_before, 1),
        "server_rss_mb_idle": round(rss_idle, 1),
        "server_rss_mb_after_fanout": round(rss_after, 1),
        "kb_per_subscription": round(
            (rss_idle - rss_before) * 1024 / (args.connections * args.per_connection), 2
        ),
        "fanout_subscribers": args.connections,
        "fanout_rounds": rounds,
        "fanout_p50_ms": round(percentile(latencies, 50), 1),
        "fanout_p99_ms": round(percentile(latencies, 99), 1),
        "fanout_max_ms": round(max(latencies) * 1000, 1),
    }


async def owner_of(rt: Any, stream: str) -> uuid.UUID:
    from sqlalchemy import text

    async with rt.system_db.transaction() as uow:
        row = (
            await uow.execute(
                text("SELECT owner_id FROM streams WHERE id = :id"),
                {"id": decode_global_id(stream).id},
            )
        ).one()
    return uuid.UUID(str(row[0]))


async def make_insight(rt: Any, owner_id: uuid.UUID, capture_id: uuid.UUID) -> uuid.UUID:
    """An insight derived from the capture, stored as the analysis worker stores one."""
    async with rt.system_db.transaction(owner_id) as uow:
        change = await insights.replace_capture_insights(
            uow=uow,
            crypto=rt.capture_crypto,
            owner_id=owner_id,
            capture_id=capture_id,
            producer="bench/1",
            insights=[
                NewInsight("key_insight", "Training with a friend keeps the runs going.", 0.9)
            ],
            at=datetime.now(UTC),
        )
    return change.added[0][0]


async def wait_all(connections: list[Connection], cursor: str) -> None:
    """Wait (bounded) until every connection received the event at ``cursor``."""
    deadline = time.monotonic() + 60
    while not all(cursor in c.arrivals for c in connections):
        if time.monotonic() > deadline:
            missing = sum(1 for c in connections if cursor not in c.arrivals)
            raise SystemExit(f"fan-out incomplete after 60 s ({missing} connections missed it)")
        await asyncio.sleep(0.005)  # polling this process's own receivers, bounded


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--per-connection", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--identities", type=int, default=10, help="distinct users among the subscribers"
    )
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results JSON")
    args = parser.parse_args()
    if args.per_connection < 1 or args.connections < 1 or args.per_connection > 100:
        raise SystemExit("--connections >= 1 and 1 <= --per-connection <= 100")
    if not 1 <= args.identities <= args.connections:
        raise SystemExit("1 <= --identities <= --connections")
    work = Path(tempfile.mkdtemp(prefix="lifeos-bench-subs-"))
    work.chmod(0o755)  # pgserver runs postgres as its own user when we are root
    try:
        result = asyncio.run(run(args, work))
    finally:
        if args.server_log and (work / "server.log").exists():
            shutil.copy2(work / "server.log", args.server_log)
        shutil.rmtree(work, ignore_errors=True)
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    result["targets"] = {
        "rss_mb_under": TARGET_RSS_MB,
        "rss_ok": result["server_rss_mb_idle"] < TARGET_RSS_MB,
        "p99_ms_under": TARGET_P99_MS,
        "p99_ok": result["fanout_p99_ms"] < TARGET_P99_MS,
    }
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"\n{result['subscriptions']:,} idle subscriptions: server RSS "
        f"{result['server_rss_mb_idle']} MB (target < {TARGET_RSS_MB} MB); fan-out to "
        f"{result['fanout_subscribers']:,}: p50 {result['fanout_p50_ms']} ms, "
        f"p99 {result['fanout_p99_ms']} ms (target < {TARGET_P99_MS} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
