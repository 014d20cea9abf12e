"""Where verification keys come from: a cached remote JWKS or a static set."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.auth.rsa_jwk import usable_signing_keys

logger = logging.getLogger(__name__)

# Real JWKS documents are a few kB; the cap keeps a hostile endpoint from
# streaming memory away.
MAX_JWKS_BYTES = 256 * 1024
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class JwksUnavailable(Exception):
    """No key set could be fetched yet, so no token can be judged."""


class JwksSource(Protocol):
    """Something that can find a verification JWK by its ``kid``."""

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        """The JWK for ``kid``, or ``None`` when the set does not hold it."""
        ...


class StaticJwks:
    """A fixed key set, e.g. the dev issuer's public JWKS document."""

    def __init__(self, keys: Mapping[str, Any]) -> None:
        """``keys`` is a JWKS document: ``{"keys": [jwk, ...]}``."""
        self._keys = usable_signing_keys(keys)

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        """The JWK for ``kid``, or ``None``."""
        return self._keys.get(kid)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    # Keys fetched over plain HTTP could be swapped in transit, which would
    # let anyone mint tokens; only loopback (tests, sidecars) may skip TLS.
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return
    raise ConfigError(f"JWKS URL must be https:// (got {url!r})")


class JwksCache:
    """A remote JWKS, cached by ``kid`` and refreshed on expiry or unknown ``kid``.

    Refreshes are rate-limited (at most one attempt per
    ``min_refresh_interval`` seconds, so random kids cannot hammer the
    endpoint) and coalesced (callers waiting while a fetch runs reuse its
    result). When a refresh fails, the keys already held stay in use.
    """

    def __init__(
        self,
        url: str,
        http_client: httpx.AsyncClient | None = None,
        ttl_seconds: float = 3600,
        min_refresh_interval: float = 30,
        *,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``http_client`` is borrowed, never closed; without one, each fetch opens its own."""
        _check_url(url)
        self.url = url
        self._client = http_client
        self._ttl = ttl_seconds
        self._min_interval = min_refresh_interval
        self._timeout = timeout_seconds
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._generation = 0
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        """The JWK for ``kid``; raise :class:`JwksUnavailable` if no set was ever fetched."""
        if kid not in self._keys or self._is_stale():
            await self._refresh()
        if self._fetched_at is None:
            raise JwksUnavailable(self.url)
        return self._keys.get(kid)

    async def refresh(self) -> None:
        """Fetch now if the rate limit allows (e.g. to warm the cache at start-up)."""
        await self._refresh()

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl

    async def _refresh(self) -> None:
        seen = self._generation
        async with self._lock:
            if self._generation != seen:
                return  # a fetch finished while we waited: use its outcome
            now = self._clock()
            if self._last_attempt is not None and now - self._last_attempt < self._min_interval:
                return
            self._last_attempt = now
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning("JWKS fetch from %s failed: %s", self.url, exc)
                return
            finally:
                self._generation += 1
            self._keys = keys
            self._fetched_at = now
            logger.info("JWKS from %s loaded: %d key(s)", self.url, len(keys))

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        if self._client is not None:
            return await self._fetch_with(self._client)
        async with httpx.AsyncClient() as client:
            return await self._fetch_with(client)

    async def _fetch_with(self, client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
        headers = {"Accept": "application/json"}
        async with client.stream("GET", self.url, headers=headers, timeout=self._timeout) as resp:
            if resp.status_code != 200:
                raise ValueError(f"HTTP {resp.status_code}")
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError("JWKS document too large")
        return usable_signing_keys(json.loads(body))
