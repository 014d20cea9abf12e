"""Short-lived signed download URLs for exports (HMAC-SHA256, no session needed).

The signing key is derived from the current master key with a label of its
own, so it never equals any other key, and rotating the master key revokes
every outstanding link (they live minutes anyway). A link carries the export
id and its expiry; the signature covers both, so neither can be changed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

from lifeos_gql.infra.crypto.master_keys import (
    DEV_KEY_FILE,
    MASTER_KEY_VAR,
    decode_key,
    load_or_create_dev_key,
)

#: How long a download URL stays valid.
URL_TTL_SECONDS: Final = 15 * 60
_LABEL = b"lifeos/export-download-url/v1"


class LinkError(Exception):
    """A download link that is malformed, forged or expired; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UrlSigner:
    """Signs and checks ``/v1/exports/{id}?expires=…&sig=…`` links."""

    key: bytes
    ttl_seconds: int = URL_TTL_SECONDS

    @classmethod
    def from_master_key(cls, master_key: bytes) -> UrlSigner:
        return cls(hmac.new(master_key, _LABEL, hashlib.sha256).digest())

    def _sig(self, export_ref: str, expires: int) -> str:
        message = f"{export_ref}\n{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def sign(self, export_ref: str, *, now: float | None = None) -> tuple[int, str]:
        """``(expires, sig)`` for a link valid ``ttl_seconds`` from ``now``."""
        expires = int(now if now is not None else time.time()) + self.ttl_seconds
        return expires, self._sig(export_ref, expires)

    def url(self, base_url: str, export_ref: str, *, now: float | None = None) -> str:
        """The full download URL under ``base_url`` (no trailing slash needed)."""
        expires, sig = self.sign(export_ref, now=now)
        query = urlencode({"expires": expires, "sig": sig})
        return f"{base_url.rstrip('/')}/v1/exports/{export_ref}?{query}"

    def check(
        self, export_ref: str, expires: str | None, sig: str | None, *, now: float | None = None
    ) -> None:
        """Raise :class:`LinkError` unless the link is authentic and unexpired.

        The signature is checked first (in constant time), so an expired
        forgery and an expired genuine link are told apart only by those
        holding a genuine one.
        """
        if not expires or not sig or not expires.isdigit() or len(expires) > 12:
            raise LinkError("malformed_link")
        if not hmac.compare_digest(self._sig(export_ref, int(expires)), sig.lower()):
            raise LinkError("bad_signature")
        if int(expires) < int(now if now is not None else time.time()):
            raise LinkError("link_expired")


@functools.cache
def signer_from_settings(master_key_b64: str | None, data_dir: Path) -> UrlSigner:
    """The signer for the configured master key (the dev key file when unset), made once."""
    if master_key_b64:
        raw = decode_key(master_key_b64, MASTER_KEY_VAR)
    else:
        raw = load_or_create_dev_key(data_dir / DEV_KEY_FILE)
    return UrlSigner.from_master_key(raw)
