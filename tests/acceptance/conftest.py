"""Acceptance tests start the real server process and talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    base_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    started_in: float


def start_server(
    env_overrides: dict[str, str], data_dir: Path, *, timeout: float = 60.0
) -> ServerProcess:
    """Run ``lifeos-gql serve`` and wait (bounded) until /healthz answers."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIFEOS_", "CLERK_", "OPENAI_", "PINECONE_"))
    }
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "LIFEOS_PORT": str(port),
            "LIFEOS_HOST": "127.0.0.1",
            "LIFEOS_DATA_DIR": str(data_dir),
            "LIFEOS_LOG_LEVEL": "warning",
        }
    )
    env.update(env_overrides)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "lifeos_gql.cli", "serve"],
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = started + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"server exited early ({process.returncode}):\n{output}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1.0).status_code == 200:
                return ServerProcess(base_url, data_dir, process, time.monotonic() - started)
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling a readiness probe, bounded by the deadline
    process.kill()
    raise AssertionError("server did not become healthy in time")


def stop_server(server: ServerProcess) -> str:
    server.process.terminate()
    try:
        out, _ = server.process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        out, _ = server.process.communicate()
    return out.decode(errors="replace") if out else ""


@pytest.fixture
def server(db_url: str, data_dir: Path) -> Iterator[ServerProcess]:
    proc = start_server({"DATABASE_URL": db_url}, data_dir)
    yield proc
    stop_server(proc)
