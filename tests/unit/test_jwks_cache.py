"""JwksCache against a real JWKS endpoint on 127.0.0.1: caching, rotation, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.auth.jwks import JwksCache, JwksUnavailable, StaticJwks
from lifeos_gql.infra.auth.rsa_jwk import public_jwk, usable_signing_keys
from tests.fakes.jwks_server import JwksServer, cached_rsa_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def jwk_of(kid: str, **extra: Any) -> dict[str, Any]:
    # Key material is shared (RSA generation is slow); only the kid differs.
    return {**public_jwk(cached_rsa_key("jwks").public_key(), kid=kid), **extra}


def doc(*names: str) -> dict[str, Any]:
    return {"keys": [jwk_of(n) for n in names]}


@pytest.fixture
def server() -> Iterator[JwksServer]:
    with JwksServer(doc("k1")) as srv:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as c:
        yield c


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_cache(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock, **kw: Any
) -> JwksCache:
    return JwksCache(server.url, client, clock=clock, **kw)


async def test_fetches_once_then_serves_from_cache(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    cache = make_cache(server, client, clock)
    first = await cache.get_key("k1")
    again = await cache.get_key("k1")
    assert first is not None and first["kid"] == "k1" and first["kty"] == "RSA"
    assert again == first
    assert server.fetch_count == 1


async def test_unknown_kid_triggers_refresh_and_finds_rotated_key(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    cache = make_cache(server, client, clock, min_refresh_interval=30)
    assert await cache.get_key("k1") is not None
    server.set_document(doc("k2"))  # Clerk rotated: k1 retired, k2 new
    clock.advance(31)
    k2 = await cache.get_key("k2")
    assert k2 is not None and k2["kid"] == "k2"
    assert server.fetch_count == 2
    # The retired key is gone from the cache, not served from memory.
    assert await cache.get_key("k1") is None


async def test_flood_of_random_kids_is_rate_limited(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    cache = make_cache(server, client, clock, min_refresh_interval=30)
    assert await cache.get_key("k1") is not None
    for i in range(50):
        assert await cache.get_key(f"random-{i}") is None
    assert server.fetch_count == 1
    clock.advance(30)
    assert await cache.get_key("random-again") is None
    assert server.fetch_count == 2  # one more attempt once the interval has passed
    assert await cache.get_key("random-once-more") is None
    assert server.fetch_count == 2


async def test_concurrent_refreshes_coalesce_into_one_fetch(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    # No rate limit at all: only the lock-and-generation coalescing can keep
    # twenty concurrent misses down to one request.
    cache = make_cache(server, client, clock, min_refresh_interval=0)
    assert await cache.get_key("k1") is not None
    server.set_document(doc("k1", "k2"))
    server.hold()
    tasks = [asyncio.create_task(cache.get_key("k2")) for _ in range(20)]
    assert await asyncio.to_thread(server.request_seen.wait, 10)
    server.release()
    results = await asyncio.gather(*tasks)
    assert all(r is not None and r["kid"] == "k2" for r in results)
    assert server.fetch_count == 2


async def test_stale_keys_are_refetched_after_ttl(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    cache = make_cache(server, client, clock, ttl_seconds=3600, min_refresh_interval=30)
    await cache.get_key("k1")
    clock.advance(3599)
    await cache.get_key("k1")
    assert server.fetch_count == 1
    clock.advance(1)
    await cache.get_key("k1")
    assert server.fetch_count == 2


async def test_failed_refresh_keeps_serving_known_keys(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    cache = make_cache(server, client, clock)
    assert await cache.get_key("k1") is not None
    server.set_response(503)
    clock.advance(4000)
    key = await cache.get_key("k1")
    assert key is not None and key["kid"] == "k1"
    assert server.fetch_count == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, None), (200, b"not json"), (200, b"[1, 2]"), (200, b'{"keys": "nope"}')],
)
async def test_no_key_set_yet_raises_unavailable(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock, status: int, body: bytes | None
) -> None:
    server.set_response(status, body)
    cache = make_cache(server, client, clock)
    with pytest.raises(JwksUnavailable):
        await cache.get_key("k1")
    # Rate limited even while failing: an outage is not hammered either.
    with pytest.raises(JwksUnavailable):
        await cache.get_key("k1")
    assert server.fetch_count == 1
    server.set_response(200)
    clock.advance(30)
    assert await cache.get_key("k1") is not None


async def test_oversized_document_is_refused(
    server: JwksServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    server.set_response(200, b'{"keys": [], "pad": "' + b"x" * 300_000 + b'"}')
    cache = make_cache(server, client, clock)
    with pytest.raises(JwksUnavailable):
        await cache.get_key("k1")


async def test_works_without_a_borrowed_client(server: JwksServer, clock: FakeClock) -> None:
    cache = JwksCache(server.url, None, clock=clock)
    key = await cache.get_key("k1")
    assert key is not None and key["kid"] == "k1"


@pytest.mark.parametrize(
    "url", ["http://clerk.example.com/.well-known/jwks.json", "ftp://127.0.0.1/x", "https://"]
)
def test_non_https_remote_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        JwksCache(url)


def test_usable_keys_skip_weak_foreign_and_malformed_entries() -> None:
    good = jwk_of("good", d="PRIVATE-MEMBER")
    entries = [
        good,
        jwk_of("weak")
        | {"kid": "weak", "n": public_jwk(cached_rsa_key("w", 1024).public_key())["n"]},
        jwk_of("enc", use="enc"),
        jwk_of("es", alg="ES256"),
        jwk_of("ops", key_ops=["sign"]),
        {**jwk_of("ec"), "kty": "EC"},
        {"kid": "bare"},
        "not a dict",
        {**jwk_of("other"), "kid": "good"},  # duplicate kid: first wins
        {**jwk_of("badn"), "n": "***"},
    ]
    keys = usable_signing_keys({"keys": entries})
    assert list(keys) == ["good"]
    assert "d" not in keys["good"]
    assert keys["good"]["n"] == good["n"]


async def test_static_jwks_serves_document_keys() -> None:
    static = StaticJwks(doc("a", "b"))
    a = await static.get_key("a")
    assert a is not None and a["kid"] == "a"
    assert await static.get_key("c") is None
