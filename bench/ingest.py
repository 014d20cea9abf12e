"""Capture ingest throughput: ``captureBatch`` over HTTP vs. raw ``COPY``.

One run, one machine, one database:

1. Starts an embedded Postgres (pgserver) in a temporary directory and the
   real server (``lifeos-gql serve``) on 127.0.0.1 pointing at it.
2. Mints a dev token, creates a stream (``createStream``), then sends
   ``captureBatch`` mutations of 1,000 small realistic items (a title,
   ~200 bytes of content, a small ``data`` object, an external id) over
   loopback HTTP with httpx: one warm-up batch, then N measured batches,
   one at a time. Reports p50 batch latency and items/s end-to-end.
3. Writes the same number of rows straight into ``captures`` with psycopg
   ``COPY ... FROM STDIN (FORMAT BINARY)`` on the same database, one
   1,000-row COPY per transaction like the API's one transaction per batch,
   into a second stream of the same user. The blobs are encrypted *before*
   the clock starts (same cipher, same sizes), so this measures the
   database write path alone: the ceiling the API could approach.
4. Prints both figures, the ratio and the targets (API ≥ 25% of raw COPY,
   ≥ 5,000 captures/s), and writes ``bench/results/ingest.json``.

It stops by itself (every wait is bounded) and talks to loopback only.

    python bench/ingest.py [--batches 10] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.db.embedded import start_embedded_postgres, stop_embedded_postgres
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.domains.captures.sealing import RowSealer, content_hash, content_hash_key
from lifeos_gql.infra.auth.dev_issuer import DevIssuer
from lifeos_gql.infra.crypto.fields import FieldCipher

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
TARGET_RATIO = 0.25
TARGET_RATE = 5_000
START_TIMEOUT = 90.0
REQUEST_TIMEOUT = 120.0

CREATE_STREAM = """
mutation($input: CreateStreamInput!) { createStream(input: $input) { id } }
"""
CAPTURE_BATCH_COUNTS = """
mutation($inputs: [CaptureInput!]!) {
  captureBatch(inputs: $inputs) { createdCount duplicateCount invalidCount }
}
"""
CAPTURE_BATCH = """
mutation($inputs: [CaptureInput!]!) {
  captureBatch(inputs: $inputs) {
    createdCount duplicateCount invalidCount
    results { index status capture { id } error { code message } }
  }
}
"""

_WORDS = [
    "garden", "meeting", "project", "travel", "invoice", "family", "book", "running",
    "budget", "idea", "notes", "friday", "review", "launch", "dinner", "weekend",
    "health", "reading", "draft", "plan", "call", "river", "coffee", "sketch",
]  # fmt: skip


def item(batch: int, index: int) -> dict[str, Any]:
    """A small realistic capture: a title, ~200 bytes of text, a little JSON."""
    n = batch * 100_003 + index
    words = [_WORDS[(n * 7 + k * 13) % len(_WORDS)] for k in range(30)]
    content = f"Entry {n}: " + " ".join(words).capitalize() + "."
    content = content[:200]
    occurred = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
    return {
        "occurredAt": occurred.isoformat(),
        "title": f"{words[0].capitalize()} {words[1]} #{n}",
        "content": content,
        "data": {"source": "bench", "mood": n % 5, "tags": words[2:4], "steps": n % 12_000},
        "externalId": f"bench-{batch}-{index}",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db_url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``lifeos-gql serve`` on a free loopback port; waits (bounded) for /healthz."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFEOS_", "REDIS_"))}
    env.update(
        DATABASE_URL=db_url,
        LIFEOS_DATA_DIR=str(data_dir),
        LIFEOS_HOST="127.0.0.1",
        LIFEOS_PORT=str(port),
        LIFEOS_LOG_LEVEL="warning",
        # Measure the capture path: analysis runs in separate worker
        # processes in production, and here it would compete for the 2 cores.
        LIFEOS_INPROCESS_WORKER="false",
    )
    # A file, not a pipe: nobody reads the log while the benchmark runs.
    log = (data_dir.parent / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "lifeos_gql.cli", "serve"],
        env=env,
        cwd=data_dir.parent,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = (data_dir.parent / "server.log").read_text(errors="replace")
            raise SystemExit(f"server exited early ({process.returncode}):\n{err}")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a readiness probe, bounded by the deadline
    process.kill()
    raise SystemExit("server did not become healthy in time")


def gql(http: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/graphql", content=orjson.dumps({"query": query, "variables": variables}))
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def create_stream(http: httpx.Client, name: str) -> str:
    data = gql(http, CREATE_STREAM, {"input": {"name": name, "source": "NOTE"}})
    return str(data["createStream"]["id"])


def run_api(http: httpx.Client, stream: str, batches: int, size: int, query: str) -> list[float]:
    """Warm-up batch, then ``batches`` timed ``captureBatch`` calls; seconds each."""
    latencies: list[float] = []
    for batch in range(batches + 1):
        inputs = [{"streamId": stream, **item(batch, i)} for i in range(size)]
        started = time.perf_counter()
        result = gql(http, query, {"inputs": inputs})["captureBatch"]
        elapsed = time.perf_counter() - started
        if result["createdCount"] != size:
            counts = {k: v for k, v in result.items() if k != "results"}
            raise SystemExit(f"batch {batch}: expected {size} created, got {counts}")
        if batch:  # batch 0 warms caches, the pool and the data key
            latencies.append(elapsed)
    return latencies


COPY_COLUMNS = (
    "id, owner_id, stream_id, author_id, occurred_at, title_enc, content_enc, data_enc,"
    " content_hash, size_bytes, external_id"
)
COPY_TYPES = [
    "uuid", "uuid", "uuid", "uuid", "timestamptz", "bytea", "bytea", "bytea",
    "bytea", "int4", "text",
]  # fmt: skip


def sealed_rows(
    owner: uuid.UUID, stream: uuid.UUID, batch: int, size: int
) -> list[tuple[Any, ...]]:
    """The same items as the API run, encrypted and hashed the way the service does."""
    data_key = os.urandom(32)
    sealer = RowSealer(FieldCipher(), data_key)
    hash_key = content_hash_key(data_key)
    rows = []
    for i in range(size):
        it = item(batch, i)
        capture_id = uuid.uuid4()
        title = it["title"].encode()
        content = it["content"].encode()
        data = orjson.dumps(it["data"], option=orjson.OPT_SORT_KEYS)
        occurred = datetime.fromisoformat(it["occurredAt"])
        identity = [it["title"], it["content"], data.decode(), occurred.isoformat()]
        rows.append(
            (
                capture_id,
                owner,
                stream,
                owner,
                occurred,
                sealer.seal(capture_id, "title", title),
                sealer.seal(capture_id, "content", content),
                sealer.seal(capture_id, "data", data),
                content_hash(hash_key, identity),
                len(content) + len(data) + len(title),
                it["externalId"],
            )
        )
    return rows


def run_copy(db_url: str, stream: uuid.UUID, batches: int, size: int) -> list[float]:
    """Warm-up COPY, then ``batches`` timed 1-transaction COPYs; seconds each."""
    with psycopg.connect(libpq_url(db_url)) as conn:
        row = conn.execute("SELECT owner_id FROM streams WHERE id = %s", (stream,)).fetchone()
        assert row is not None
        owner = row[0]
        prepared = [sealed_rows(owner, stream, batch, size) for batch in range(batches + 1)]
        latencies: list[float] = []
        for batch, rows in enumerate(prepared):
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY captures ({COPY_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types(COPY_TYPES)
                for values in rows:
                    copy.write_row(values)
            if batch:
                latencies.append(time.perf_counter() - started)
        count = conn.execute(
            "SELECT count(*) FROM captures WHERE stream_id = %s", (stream,)
        ).fetchone()
        assert count is not None and count[0] == (batches + 1) * size
    return latencies


def run_api_concurrent(
    base: str, headers: dict[str, str], streams: list[str], batches: int, size: int, query: str
) -> dict[str, float]:
    """``len(streams)`` clients at once, each sending ``batches`` batches to its own stream.

    Throughput is all items over the wall time from the first request to the
    last answer: what one server process sustains when several devices post.
    """
    from concurrent.futures import ThreadPoolExecutor

    def client(stream: str) -> list[float]:
        with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as http:
            latencies = []
            for batch in range(batches):
                # Each client has its own stream, so the same items are new there.
                inputs = [{"streamId": stream, **item(batch, i)} for i in range(size)]
                started = time.perf_counter()
                result = gql(http, query, {"inputs": inputs})["captureBatch"]
                latencies.append(time.perf_counter() - started)
                if result["createdCount"] != size:
                    counts = {k: v for k, v in result.items() if k != "results"}
                    raise SystemExit(f"concurrent batch: expected {size} created, got {counts}")
            return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(streams)) as pool:
        per_client = list(pool.map(client, streams))
    wall = time.perf_counter() - started
    latencies = [x for xs in per_client for x in xs]
    return {
        "clients": len(streams),
        "p50_batch_ms": round(statistics.median(latencies) * 1000, 2),
        "items_per_s": round(size * len(latencies) / wall, 1),
    }


def summarise(latencies: list[float], size: int) -> dict[str, float]:
    return {
        "p50_batch_ms": round(statistics.median(latencies) * 1000, 2),
        "max_batch_ms": round(max(latencies) * 1000, 2),
        "items_per_s": round(size * len(latencies) / sum(latencies), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10, help="measured batches (default 10)")
    parser.add_argument("--batch-size", type=int, default=1000, help="items per batch")
    parser.add_argument(
        "--counts-only",
        action="store_true",
        help="select only the counts, not per-item results (shows the response's cost)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=2,
        help="concurrent clients in the second API run (default 2; 0 skips it)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lifeos-bench-ingest-"))
    work.chmod(0o755)  # pgserver runs postgres as its own user when we are root
    data_dir = work / "data"
    data_dir.mkdir()
    server = None
    try:
        db_url = start_embedded_postgres(work)  # under work/pg
        server, base = start_server(db_url, data_dir)
        token = DevIssuer.load_or_create(data_dir).mint("bench@example.com", name="Bench")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as http:
            api_stream = create_stream(http, "Bench via API")
            copy_stream = create_stream(http, "Bench via COPY")
            query = CAPTURE_BATCH_COUNTS if args.counts_only else CAPTURE_BATCH
            latencies = run_api(http, api_stream, args.batches, args.batch_size, query)
            api = summarise(latencies, args.batch_size)
            concurrent = None
            if args.clients > 0:
                streams = [create_stream(http, f"Bench client {n}") for n in range(args.clients)]
                concurrent = run_api_concurrent(
                    base, headers, streams, args.batches, args.batch_size, query
                )
        copy_id = decode_global_id(copy_stream, expected="Stream").id
        raw = summarise(run_copy(db_url, copy_id, args.batches, args.batch_size), args.batch_size)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        stop_embedded_postgres(work)
        shutil.rmtree(work, ignore_errors=True)

    ratio = api["items_per_s"] / raw["items_per_s"]
    result = {
        "benchmark": "ingest",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "batches": args.batches,
        "batch_size": args.batch_size,
        "selection": "counts only"
        if args.counts_only
        else "counts + results { index status capture { id } error }",
        "api_capture_batch": api,
        "api_capture_batch_concurrent": concurrent,
        "raw_copy": raw,
        "ratio": round(ratio, 3),
        "targets": {"ratio": TARGET_RATIO, "items_per_s": TARGET_RATE},
        "meets_targets": {
            "ratio": ratio >= TARGET_RATIO,
            "items_per_s": api["items_per_s"] >= TARGET_RATE,
        },
        "notes": "COPY rows are pre-encrypted before timing: it measures the DB write path only.",
    }
    # A diagnostic run must not overwrite the comparable default figures.
    out = RESULTS.with_name("ingest-counts-only.json") if args.counts_only else RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    def mark(ok: bool) -> str:
        return "ok" if ok else "BELOW TARGET"

    print(f"{args.batches} batches of {args.batch_size} items, after one warm-up batch each")
    print(
        f"captureBatch over HTTP: {api['items_per_s']:>9,.0f} items/s  "
        f"p50 {api['p50_batch_ms']:.1f} ms/batch"
    )
    print(
        f"raw COPY (pre-encrypted): {raw['items_per_s']:>7,.0f} items/s  "
        f"p50 {raw['p50_batch_ms']:.1f} ms/batch"
    )
    print(
        f"ratio API / COPY: {ratio:.1%}  (target ≥ {TARGET_RATIO:.0%}: {mark(ratio >= TARGET_RATIO)})"
    )
    print(f"API rate target ≥ {TARGET_RATE:,} items/s: {mark(api['items_per_s'] >= TARGET_RATE)}")
    if concurrent is not None:
        rate = concurrent["items_per_s"]
        print(
            f"captureBatch, {concurrent['clients']:.0f} clients at once: {rate:,.0f} items/s"
            f"  p50 {concurrent['p50_batch_ms']:.1f} ms/batch  ({rate / raw['items_per_s']:.1%} of"
            f" sequential COPY; rate target: {mark(rate >= TARGET_RATE)})"
        )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
