"""RSA public keys as JWKs: conversion, RFC 7638 thumbprints, and vetting."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from lifeos_gql.infra.auth.jws_compact import b64url_decode, b64url_encode

logger = logging.getLogger(__name__)

MIN_RSA_BITS = 2048
_PUBLIC_MEMBERS = ("kty", "kid", "use", "alg", "n", "e")


def _uint_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def public_jwk(public_key: rsa.RSAPublicKey, *, kid: str | None = None) -> dict[str, Any]:
    """The RS256 signing JWK of ``public_key``; ``kid`` defaults to its thumbprint."""
    numbers = public_key.public_numbers()
    jwk: dict[str, Any] = {"kty": "RSA", "n": _uint_b64(numbers.n), "e": _uint_b64(numbers.e)}
    return {**jwk, "kid": kid or thumbprint(jwk), "use": "sig", "alg": "RS256"}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an RSA JWK (only ``e``, ``kty``, ``n`` count)."""
    canonical = json.dumps(
        {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def _usable(jwk: Any) -> bool:
    if not isinstance(jwk, Mapping):
        return False
    if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
        return False
    if jwk.get("alg", "RS256") != "RS256":
        return False
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return False
    kid, n, e = jwk.get("kid"), jwk.get("n"), jwk.get("e")
    if not (isinstance(kid, str) and kid and isinstance(n, str) and isinstance(e, str)):
        return False
    try:
        modulus = int.from_bytes(b64url_decode(n), "big")
        b64url_decode(e)
    except ValueError:
        return False
    # Short moduli are factorable; a JWKS offering one is refused key by key.
    return modulus.bit_length() >= MIN_RSA_BITS


def usable_signing_keys(document: Any) -> dict[str, dict[str, Any]]:
    """RS256 verification keys of a JWKS document, by ``kid``, public members only.

    Keys for other algorithms or uses, weak keys and malformed entries are
    skipped: one odd key must not make the whole set unusable.
    """
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not _usable(entry):
            continue
        kid = entry["kid"]
        if kid in keys:
            logger.warning("JWKS lists kid %r twice; keeping the first", kid)
            continue
        # Private members, if a misconfigured JWKS ever carries them, are dropped.
        keys[kid] = {name: entry[name] for name in _PUBLIC_MEMBERS if name in entry}
    return keys
