"""A local fake of the OpenAI HTTP API, for tests that drive the real ``openai`` SDK.

The ``openai`` 3.x SDK talks through its own ``httpx2`` stack, so httpx mocks
never see its traffic; the honest way to test code using it is a real HTTP
server on 127.0.0.1 that speaks the same wire protocol. ``FakeOpenAI`` is one:
uvicorn serving a small Starlette app on its own event loop in a background
thread, so sync and async tests alike can point ``base_url`` at it, and many
delayed requests are served concurrently (the delays are awaited, not slept).

Scripting replies: a handler is ``Callable[[dict], FakeReply]`` taking the
request's JSON body. Handlers run on the server's event loop, one at a time,
so they may keep plain counters; they must not block. Example::

    def chat(body: dict) -> FakeReply:
        return FakeReply(json=chat_completion("hello"))

    with FakeOpenAI(chat_handler=chat) as fake:
        client = OpenAI(api_key="sk-test", base_url=fake.base_url)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DEFAULT_EMBEDDING_DIM = 1536
_START_TIMEOUT_SECONDS = 10.0
_completion_ids = itertools.count(1)


@dataclass(frozen=True)
class FakeReply:
    """What the fake answers: a status, a JSON body (or raw ``body`` bytes), an optional delay.

    ``body`` wins over ``json`` and lets a test send garbage (non-JSON, truncated JSON).
    ``delay`` overrides the server-wide ``delay_seconds`` for this reply; use a delay
    longer than the client's timeout to script a timeout.
    """

    status: int = 200
    json: Any = None
    delay: float | None = None
    headers: dict[str, str] | None = None
    body: bytes | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (headers with lower-case names)."""

    path: str
    json: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[dict[str, Any]], FakeReply]


def error_reply(
    status: int,
    message: str = "scripted error",
    type: str = "server_error",
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    delay: float | None = None,
) -> FakeReply:
    """An OpenAI-shaped error reply, e.g. ``error_reply(429, "slow down", "rate_limit_error")``.

    Pass ``headers={"retry-after-ms": "1"}`` to make SDK retries immediate.
    """
    payload = {"error": {"message": message, "type": type, "param": None, "code": code}}
    return FakeReply(status=status, json=payload, headers=headers, delay=delay)


def chat_completion(
    content: str | None,
    model: str = "gpt-4o-mini",
    finish_reason: str = "stop",
    usage: dict[str, int] | None = None,
    *,
    refusal: str | None = None,
) -> dict[str, Any]:
    """A valid ``chat.completion`` JSON object whose single choice says ``content``."""
    if usage is None:
        completion_tokens = len((content or "").split())
        usage = {
            "prompt_tokens": 10,
            "completion_tokens": completion_tokens,
            "total_tokens": 10 + completion_tokens,
        }
    return {
        "id": f"chatcmpl-fake{next(_completion_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def pseudo_embedding(text: str, dim: int = DEFAULT_EMBEDDING_DIM) -> list[float]:
    """A deterministic unit vector seeded by a hash of ``text`` (no meaning, only identity)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    vector /= np.linalg.norm(vector)
    return [float(x) for x in vector]


def embeddings_response(
    vectors: list[list[float]], request: dict[str, Any], prompt_tokens: int | None = None
) -> dict[str, Any]:
    """A ``list`` of embeddings for ``request``, base64- or float-encoded as it asked."""
    as_base64 = request.get("encoding_format") == "base64"
    data = []
    for index, vector in enumerate(vectors):
        encoded: Any = vector
        if as_base64:
            raw = np.asarray(vector, dtype="<f4").tobytes()
            encoded = base64.b64encode(raw).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = prompt_tokens if prompt_tokens is not None else 0
    return {
        "object": "list",
        "data": data,
        "model": request.get("model", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def default_embeddings_handler(body: dict[str, Any]) -> FakeReply:
    """Deterministic pseudo-embeddings of the requested ``dimensions`` (default 1536)."""
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        inputs = [raw_input]
    elif isinstance(raw_input, list) and raw_input:
        # Token arrays are hashed by their repr: identity is all a fake vector carries.
        inputs = [item if isinstance(item, str) else repr(item) for item in raw_input]
    else:
        return error_reply(
            400, "'input' must be a string or a non-empty array", "invalid_request_error"
        )
    if any(item == "" for item in inputs):
        return error_reply(400, "'input' cannot contain an empty string", "invalid_request_error")
    dim = body.get("dimensions") or DEFAULT_EMBEDDING_DIM
    if not isinstance(dim, int) or dim < 1:
        return error_reply(400, "'dimensions' must be a positive integer", "invalid_request_error")
    vectors = [pseudo_embedding(text, dim) for text in inputs]
    tokens = sum(len(text.split()) for text in inputs)
    return FakeReply(json=embeddings_response(vectors, body, prompt_tokens=tokens))


def default_chat_handler(body: dict[str, Any]) -> FakeReply:
    """Fails loudly: a test using chat completions must script its replies."""
    return error_reply(
        500,
        "FakeOpenAI has no chat_handler: pass FakeOpenAI(chat_handler=...) in the test",
        "fake_not_configured",
    )


class FakeOpenAI:
    """A real HTTP server on 127.0.0.1 (random free port) answering like the OpenAI API.

    Serves ``POST /v1/chat/completions`` and ``POST /v1/embeddings``; requires an
    ``Authorization: Bearer ...`` header (401 otherwise, and ``api_key`` pins its value).
    Every request, answered or refused, is appended to :attr:`requests`.
    """

    def __init__(
        self,
        chat_handler: Handler | None = None,
        embeddings_handler: Handler | None = None,
        delay_seconds: float = 0.0,
        *,
        api_key: str | None = None,
    ) -> None:
        self.chat_handler: Handler = chat_handler or default_chat_handler
        self.embeddings_handler: Handler = embeddings_handler or default_embeddings_handler
        self.delay_seconds = delay_seconds
        self.api_key = api_key
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, for the SDK's ``base_url``."""
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._port}/v1"

    def start(self) -> FakeOpenAI:
        """Bind a free port and serve in a background thread; returns once serving."""
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            self._app(),
            log_level="warning",
            access_log=False,
            lifespan="on",
            backlog=1024,
            # Longer than any pause between a test's calls: uvicorn's 5 s default
            # equals procrastinate's 5 s poll for retried jobs, and a client
            # reusing a connection the server is just closing fails without the
            # request being recorded (tests run the SDK with max_retries=0).
            timeout_keep_alive=120,
            # Delays are cut short on stop; this bounds anything else still running.
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="fake-openai", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError("FakeOpenAI did not start")
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; pending delayed replies end at once."""
        if self._server is None or self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- recorded traffic ----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self._requests.clear()

    # -- server internals ----------------------------------------------------------

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def _app(self) -> Starlette:
        async def chat(request: Request) -> Response:
            return await self._handle(request, lambda: self.chat_handler)

        async def embeddings(request: Request) -> Response:
            return await self._handle(request, lambda: self.embeddings_handler)

        async def not_found(request: Request) -> Response:
            self._record(request, None)
            reply = error_reply(404, f"no route {request.url.path}", "invalid_request_error")
            return self._respond(reply)

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            # Runs on the server's loop once it is about to accept: start() waits for this.
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._ready.set()
            yield

        return Starlette(
            routes=[
                Route("/v1/chat/completions", chat, methods=["POST"]),
                Route("/v1/embeddings", embeddings, methods=["POST"]),
                Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
            ],
            lifespan=lifespan,
        )

    async def _handle(self, request: Request, pick: Callable[[], Handler]) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._record(request, None)
            return self._respond(error_reply(400, "body is not JSON", "invalid_request_error"))
        self._record(request, body)
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            reply = error_reply(401, "missing bearer token", "invalid_request_error")
            return self._respond(reply)
        if self.api_key is not None and token.strip() != self.api_key:
            reply = error_reply(401, "incorrect API key", "invalid_request_error")
            return self._respond(reply)
        if not isinstance(body, dict):
            reply = error_reply(400, "body must be a JSON object", "invalid_request_error")
            return self._respond(reply)
        reply = pick()(body)
        delay = reply.delay if reply.delay is not None else self.delay_seconds
        if delay > 0:
            await self._pause(delay)
        return self._respond(reply)

    async def _pause(self, seconds: float) -> None:
        # Waiting on the stop event (not a plain sleep) lets stop() end delayed replies.
        assert self._stopping is not None
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _record(self, request: Request, body: Any) -> None:
        headers = {key.lower(): value for key, value in request.headers.items()}
        with self._lock:
            self._requests.append(RecordedRequest(request.url.path, body, headers))

    @staticmethod
    def _respond(reply: FakeReply) -> Response:
        headers = dict(reply.headers or {})
        if reply.body is not None:
            media_type = headers.pop("content-type", "application/json")
            return Response(reply.body, reply.status, headers, media_type=media_type)
        headers.setdefault("x-request-id", "req_fake")
        return Response(orjson.dumps(reply.json), reply.status, headers, "application/json")
