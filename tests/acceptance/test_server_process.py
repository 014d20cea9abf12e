"""The real server process: health, GraphiQL offline, me, bad tokens → 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from lifeos_gql.infra.auth.dev_issuer import DEV_ISSUER, DevIssuer
from tests.acceptance.conftest import start_server, stop_server

ME = {"query": "{ me { id email } }"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "sub": "dev|mallory@example.com",
        "email": "mallory@example.com",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _rs256(private_pem: bytes, kid: str, claims: dict) -> str:
    return jwt.encode(claims, private_pem.decode(), algorithm="RS256", headers={"kid": kid})


def test_server_serves_graphiql_offline_and_me(server):
    assert httpx.get(server.base_url + "/healthz").status_code == 200
    assert httpx.get(server.base_url + "/readyz").json()["status"] == "ready"

    page = httpx.get(server.base_url + "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    hosts = re.findall(r"(?:https?|wss?)://[^\s\"'<>)]+", page.text)
    assert hosts == [], hosts
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("/"), src
        assert httpx.get(server.base_url + src).status_code == 200, src

    token = DevIssuer.load_or_create(server.data_dir).mint("alice@example.com")
    body = httpx.post(
        server.base_url + "/graphql", json=ME, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert body["data"]["me"]["email"] == "alice@example.com"


def test_bad_tokens_are_401(server):
    issuer = DevIssuer.load_or_create(server.data_dir)
    key_path = server.data_dir / "dev-jwt-key.pem"
    dev_pem = key_path.read_bytes()
    public_pem = (
        serialization.load_pem_private_key(dev_pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}, _claims())
    hs_sig = hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest()

    cases = {
        "unknown key": _rs256(stranger_pem, issuer.kid, _claims()),
        "unknown kid": _rs256(stranger_pem, "not-a-known-kid", _claims()),
        "expired": _rs256(
            dev_pem,
            issuer.kid,
            _claims(
                exp=int(time.time()) - 3600,
                iat=int(time.time()) - 7200,
                nbf=int(time.time()) - 7200,
            ),
        ),
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, _claims()) + ".",
        "HS256 with public key": hs_input + "." + _b64(hs_sig),
        "wrong issuer": _rs256(dev_pem, issuer.kid, _claims(iss="https://evil.example")),
        "garbage": "not.a.jwt",
    }
    for name, token in cases.items():
        response = httpx.post(
            server.base_url + "/graphql", json=ME, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, (name, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", name
    valid = issuer.mint("ok@example.com", ttl=timedelta(minutes=5))
    response = httpx.post(
        server.base_url + "/graphql", json=ME, headers={"Authorization": f"Bearer {valid}"}
    )
    assert response.status_code == 200


def test_prod_refuses_dev_tokens(db_url, data_dir: Path):
    key = base64.b64encode(b"m" * 32).decode()
    proc = start_server(
        {
            "DATABASE_URL": db_url,
            "LIFEOS_ENV": "prod",
            "CLERK_ISSUER": "https://clerk.invalid.example",
            "CLERK_JWKS_URL": "https://clerk.invalid.example/.well-known/jwks.json",
            "LIFEOS_MASTER_KEY": key,
        },
        data_dir,
    )
    try:
        token = DevIssuer.load_or_create(data_dir).mint("dev@example.com")
        response = httpx.post(
            proc.base_url + "/graphql", json=ME, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["reason"] == "wrong_issuer"
        # No dev JWKS endpoint in prod, and no field suggestions.
        assert httpx.get(proc.base_url + "/.well-known/dev-jwks.json").status_code == 404
        body = httpx.post(proc.base_url + "/graphql", json={"query": "{ mee { id } }"}).json()
        assert "Did you mean" not in body["errors"][0]["message"]
    finally:
        stop_server(proc)


@pytest.mark.parametrize("restart", [True])
def test_embedded_defaults_start_and_restart(tmp_path: Path, restart):
    """`make run`'s path: no DATABASE_URL → embedded Postgres under the data dir.

    As root, pgserver runs postgres as its own user, which cannot enter
    pytest's 0700 tmp dirs: use a traversable directory of our own.
    """
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="lifeos-embedded-"))
    base.chmod(0o755)
    data_dir = base / ".lifeos"
    try:
        _embedded_round_trip(data_dir)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _embedded_round_trip(data_dir: Path) -> None:
    first = start_server({}, data_dir, timeout=120)
    try:
        assert httpx.get(first.base_url + "/readyz").json()["status"] == "ready"
        token = DevIssuer.load_or_create(data_dir).mint("emb@example.com")
        me = httpx.post(
            first.base_url + "/graphql", json=ME, headers={"Authorization": f"Bearer {token}"}
        ).json()
        user_id = me["data"]["me"]["id"]
    finally:
        stop_server(first)
    assert (data_dir / "pg").is_dir()
    second = start_server({}, data_dir, timeout=120)
    try:
        me = httpx.post(
            second.base_url + "/graphql", json=ME, headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert me["data"]["me"]["id"] == user_id  # data kept between runs
    finally:
        stop_server(second)
