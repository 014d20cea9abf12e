"""Connection rules: credentials (4403), expiry, origins, protocol, limits, pings."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from gql.transport.exceptions import TransportError, TransportQueryError

from lifeos_gql.infra.auth.dev_issuer import DevIssuer
from tests.conftest import make_settings
from tests.helpers import dev_token
from tests.integration.subscriptions_harness import (
    close_code,
    gql_http,
    live_server,
    next_event,
    request,
    start,
    wait_subscribed,
    ws_client,
)

INSIGHTS = "subscription { insightAdded { cursor insight { id } } }"
TRANSPORT_WS = "graphql-transport-ws"


@pytest.fixture
def settings_for(db_url: str, data_dir: Path) -> Any:
    def make(**overrides: Any) -> Any:
        return make_settings(database_url=db_url, lifeos_data_dir=data_dir, **overrides)

    return make


def _expired_token(data_dir: Path) -> str:
    """Signed by the dev key, expired 5 s ago: inside the verifier's leeway, so
    only the connection's own expiry check refuses it."""
    import time

    from jose import jwt

    from lifeos_gql.infra.auth.dev_issuer import DEV_ISSUER, dev_subject

    issuer = DevIssuer.load_or_create(data_dir)
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "sub": dev_subject("alice@example.com"),
        "email": "alice@example.com",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now - 5,
    }
    pem = (data_dir / "dev-jwt-key.pem").read_text()
    return str(jwt.encode(claims, pem, algorithm="RS256", headers={"kid": issuer.kid}))


async def _refused(ws_url: str, token: str | None) -> int | None:
    with pytest.raises(TransportError) as refused:
        async with ws_client(ws_url, token) as session:
            await next_event(session.subscribe(request(INSIGHTS)))
    return close_code(refused.value)


async def test_bad_credentials_close_with_4403(settings_for: Any, data_dir: Path) -> None:
    good = dev_token(data_dir, "alice@example.com")
    expired = _expired_token(data_dir)
    async with live_server(settings_for()) as server:
        read_only = (
            await gql_http(
                server.base_url,
                'mutation { createApiToken(name: "reader", scopes: [READ]) { token } }',
                token=good,
            )
        )["createApiToken"]["token"]
        subscriber = (
            await gql_http(
                server.base_url,
                'mutation { createApiToken(name: "feed", scopes: [SUBSCRIBE]) { token } }',
                token=good,
            )
        )["createApiToken"]["token"]
        for token in (None, "garbage", good[:-4] + "AAAA", expired, read_only):
            assert await _refused(server.ws_url, token) == 4403, token
        # A token with the subscribe scope is accepted.
        async with ws_client(server.ws_url, subscriber) as session:
            _, pending = start(session, request(INSIGHTS))
            await wait_subscribed(server)
            pending.cancel()


async def test_connection_closes_when_its_token_expires(settings_for: Any, data_dir: Path) -> None:
    short = DevIssuer.load_or_create(data_dir).mint("alice@example.com", ttl=timedelta(seconds=2))
    async with (
        live_server(settings_for()) as server,
        websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as ws,
    ):
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {short}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": INSIGHTS}}))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 15)
        assert ws.close_code == 4403
        assert ws.close_reason == "Token expired"


async def test_origins_protocols_and_operation_types(settings_for: Any, data_dir: Path) -> None:
    token = dev_token(data_dir, "alice@example.com")
    settings = settings_for(lifeos_cors_origins=["https://app.example.com"])
    async with live_server(settings) as server:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(
                server.ws_url,
                subprotocols=[TRANSPORT_WS],
                origin="https://evil.example.com",
            )
        assert refused.value.response.status_code == 403
        async with websockets.connect(
            server.ws_url, subprotocols=[TRANSPORT_WS], origin="https://app.example.com"
        ) as ws:
            assert ws.subprotocol == TRANSPORT_WS
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            # Queries and mutations go over HTTP.
            await ws.send(
                json.dumps({"id": "q", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
            )
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert answer["type"] == "error" and answer["id"] == "q"
        # The legacy graphql-ws protocol is not offered.
        async with websockets.connect(server.ws_url, subprotocols=["graphql-ws"]) as legacy:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(legacy.recv(), 10)
            assert legacy.close_code == 4406


async def test_subscription_limits_and_server_pings(settings_for: Any, data_dir: Path) -> None:
    token = dev_token(data_dir, "alice@example.com")
    settings = settings_for(
        lifeos_ws_max_subscriptions_per_connection=2,
        lifeos_ws_max_subscriptions_per_user=3,
        lifeos_ws_ping_seconds=0.2,
    )
    async with live_server(settings) as server:
        async with ws_client(server.ws_url, token) as first:
            held = [start(first, request(INSIGHTS))[1] for _ in range(2)]
            await wait_subscribed(server, 2)
            with pytest.raises(TransportQueryError) as per_connection:
                await next_event(first.subscribe(request(INSIGHTS)))
            assert "limit" in per_connection.value.errors[0]["message"].lower()
            async with ws_client(server.ws_url, token) as second:
                held.append(start(second, request(INSIGHTS))[1])
                await wait_subscribed(server, 3)
                with pytest.raises(TransportQueryError) as per_user:
                    await next_event(second.subscribe(request(INSIGHTS)))
                assert per_user.value.errors[0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
                for future in held:
                    future.cancel()
        async with websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "ping"}


GRAPH = "subscription { graphChanged { cursor change } }"
NEW_TOKEN = """mutation { createApiToken(name: "feed", scopes: [SUBSCRIBE]) {
  token apiToken { id } } }"""
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) }"


async def _subscribed_socket(ws_url: str, token: str) -> Any:
    """A raw graphql-transport-ws connection holding one ``graphChanged`` subscription."""
    ws = await websockets.connect(ws_url, subprotocols=[TRANSPORT_WS])
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": GRAPH}}))
    return ws


async def _frames_until_closed(ws: Any, seconds: float = 15.0) -> list[dict[str, Any]]:
    """Every frame the server sends until it closes the connection (bounded)."""
    frames = []
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), seconds)))
    return frames


async def test_revoked_api_token_gets_no_event_and_is_closed(
    settings_for: Any, data_dir: Path
) -> None:
    """The next event is not delivered to a revoked token's subscription; its
    connection closes (4403) while a session's subscription gets the event."""
    from tests.integration.subscriptions_harness import link, make_stream_with_captures

    alice = dev_token(data_dir, "alice@example.com")
    async with live_server(settings_for(lifeos_ws_credential_recheck_seconds=0)) as server:
        created = (await gql_http(server.base_url, NEW_TOKEN, token=alice))["createApiToken"]
        _, (a, b) = await make_stream_with_captures(
            server.base_url, alice, "Notes", ["First note.", "Second note."]
        )
        ws = await _subscribed_socket(server.ws_url, created["token"])
        async with ws_client(server.ws_url, alice) as session:
            _, first = start(session, request(GRAPH))
            await wait_subscribed(server, 2)
            await gql_http(server.base_url, REVOKE, {"id": created["apiToken"]["id"]}, token=alice)
            await link(server.base_url, alice, a, b, "SEE_ALSO")
            assert (await first)["graphChanged"]["change"] == "LINKED"
        frames = await _frames_until_closed(ws)
        assert [f for f in frames if f.get("type") == "next"] == []
        assert (ws.close_code, ws.close_reason) == (4403, "Token revoked")
        assert server.app.state.runtime.subscriptions.revoked == 1


async def test_idle_connection_of_revoked_api_token_is_closed(
    settings_for: Any, data_dir: Path
) -> None:
    """With no event at all, the periodic re-check closes the revoked token's connection."""
    alice = dev_token(data_dir, "alice@example.com")
    async with live_server(settings_for(lifeos_ws_credential_recheck_seconds=0.2)) as server:
        created = (await gql_http(server.base_url, NEW_TOKEN, token=alice))["createApiToken"]
        kept = (await gql_http(server.base_url, NEW_TOKEN, token=alice))["createApiToken"]
        revoked_ws = await _subscribed_socket(server.ws_url, created["token"])
        kept_ws = await _subscribed_socket(server.ws_url, kept["token"])
        await wait_subscribed(server, 2)
        await gql_http(server.base_url, REVOKE, {"id": created["apiToken"]["id"]}, token=alice)
        assert await _frames_until_closed(revoked_ws) == []
        assert (revoked_ws.close_code, revoked_ws.close_reason) == (4403, "Token revoked")
        # The other token's connection is untouched: it still answers a ping.
        await kept_ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(kept_ws.recv(), 15)) == {"type": "pong"}
        assert server.app.state.runtime.subscriptions.revoked == 1
        await kept_ws.close()
