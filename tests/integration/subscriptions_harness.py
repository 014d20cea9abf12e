"""Shared by the subscription tests: a real uvicorn server in the test's loop,
GraphQL over HTTP, and the ``gql`` client over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from gql import Client
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

from lifeos_gql.app import create_app
from lifeos_gql.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    ws_url: str
    app: Any


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """uvicorn serving the app on a loopback port, in this event loop."""
    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
            ws_per_message_deflate=False,  # as ``lifeos-gql serve``
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("server stopped during start-up")
        assert time.monotonic() < deadline, "server did not start in time"
        await asyncio.sleep(0.02)  # polling start-up, bounded by the deadline
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def gql_http(
    base_url: str, query: str, variables: dict[str, Any] | None = None, *, token: str
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def ws_client(ws_url: str, token: str | None, **transport: Any) -> Client:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    return Client(
        transport=WebsocketsTransport(
            url=ws_url,
            init_payload=payload,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            **transport,
        )
    )


def close_code(error: BaseException) -> int | None:
    """The close code the server sent, found along an exception's causes."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionClosed) and seen.rcvd is not None:
            return int(seen.rcvd.code)
        seen = seen.__cause__ or seen.__context__
    return None


CREATE_STREAM = "mutation($n: String!) { createStream(input: {name: $n, source: NOTE}) { id } }"
CAPTURE = """mutation($s: ID!, $c: String!) {
  capture(input: {streamId: $s, content: $c}) { status capture { id } } }"""
LINK = """mutation($a: ID!, $b: ID!, $r: String!) {
  linkNodes(from: $a, to: $b, relation: $r) { id } }"""


async def make_stream_with_captures(
    base_url: str, token: str, name: str, contents: list[str]
) -> tuple[str, list[str]]:
    stream = (await gql_http(base_url, CREATE_STREAM, {"n": name}, token=token))["createStream"]
    ids = []
    for content in contents:
        data = await gql_http(base_url, CAPTURE, {"s": stream["id"], "c": content}, token=token)
        ids.append(data["capture"]["capture"]["id"])
    return stream["id"], ids


async def link(base_url: str, token: str, a: str, b: str, relation: str) -> str:
    data = await gql_http(base_url, LINK, {"a": a, "b": b, "r": relation}, token=token)
    return str(data["linkNodes"]["id"])


def request(query: str, **variables: Any) -> Any:
    """A ``gql`` request with its variables."""
    from gql import gql

    req = gql(query)
    req.variable_values = variables
    return req


async def next_event(iterator: Any, seconds: float = 15.0) -> dict[str, Any]:
    """The subscription's next result, failing the test after ``seconds``."""
    result: dict[str, Any] = await asyncio.wait_for(iterator.__anext__(), seconds)
    return result


async def wait_subscribed(server: LiveServer, count: int = 1, seconds: float = 15.0) -> None:
    """Poll (bounded) until the server's dispatcher holds ``count`` subscriptions."""
    dispatcher = server.app.state.runtime.subscriptions
    deadline = time.monotonic() + seconds
    while dispatcher.count < count:
        assert time.monotonic() < deadline, f"only {dispatcher.count} subscriptions"
        await asyncio.sleep(0.01)  # polling server state, bounded by the deadline


def start(session: Any, req: Any, timeout: float = 30.0) -> tuple[Any, asyncio.Future[Any]]:
    """Subscribe now (a ``gql`` subscription starts when first iterated): the
    iterator and a future of its first result."""
    iterator = session.subscribe(req)
    return iterator, asyncio.ensure_future(next_event(iterator, timeout))


class StalledClient:
    """A graphql-transport-ws client that stops reading after subscribing.

    Framing by the ``websockets`` sans-I/O client; the socket has a small
    receive buffer and the stream reader a tiny limit, so the server's sends
    back up quickly, as with a consumer on a slow network.
    """

    def __init__(self, protocol: Any, reader: asyncio.StreamReader, writer: Any) -> None:
        self.protocol = protocol
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, ws_url: str, token: str) -> StalledClient:
        import json
        import socket as socketlib

        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        uri = parse_uri(ws_url)
        sock = socketlib.socket()
        sock.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_RCVBUF, 8192)  # no autotuning
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (uri.host, uri.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        protocol = ClientProtocol(uri, subprotocols=["graphql-transport-ws"], max_size=None)
        protocol.send_request(protocol.connect())
        client = cls(protocol, reader, writer)
        await client._flush()
        await client._expect(None)  # the handshake response
        protocol.send_text(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            ).encode()
        )
        await client._flush()
        await client._expect("connection_ack")
        return client

    async def subscribe(self, query: str) -> None:
        import json

        self.protocol.send_text(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}).encode()
        )
        await self._flush()

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            self.writer.write(data)
        await self.writer.drain()

    async def _expect(self, message_type: str | None) -> None:
        """Read until the handshake completes (None) or a message of this type arrives."""
        import json

        from websockets.frames import Opcode
        from websockets.http11 import Response

        while True:
            data = await asyncio.wait_for(self.reader.read(65536), 10)
            assert data, "connection closed"
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if message_type is None and isinstance(event, Response):
                    assert event.status_code == 101, event.status_code
                    return
                if (
                    getattr(event, "opcode", None) is Opcode.TEXT
                    and json.loads(event.data)["type"] == message_type
                ):
                    return

    async def read_until_closed(self, seconds: float) -> tuple[int, int | None, str]:
        """Drain the socket: (``next`` messages received, close code, close reason)."""
        import json

        from websockets.frames import Opcode

        received = 0
        deadline = asyncio.get_running_loop().time() + seconds
        while self.protocol.close_rcvd is None:
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, "no close frame"
            data = await asyncio.wait_for(self.reader.read(1 << 20), left)
            if not data:
                break
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if getattr(event, "opcode", None) is Opcode.TEXT:
                    received += json.loads(event.data)["type"] == "next"
        self.writer.close()
        close = self.protocol.close_rcvd
        return received, (close.code if close else None), (close.reason if close else "")
