"""JwtVerifier, MultiIssuerVerifier, DevIssuer and build_verifier: every bad token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import stat
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from lifeos_gql.config import load_settings
from lifeos_gql.core.errors import Unauthenticated
from lifeos_gql.infra.auth import (
    DEV_ISSUER,
    DevIssuer,
    JwtVerifier,
    MultiIssuerVerifier,
    StaticJwks,
    build_verifier,
)
from lifeos_gql.infra.auth.jwks import JwksCache
from lifeos_gql.infra.auth.rsa_jwk import public_jwk, thumbprint
from tests.fakes.jwks_server import JwksServer, cached_rsa_key

CLERK = "https://clerk.lifeos.test"
APP = "https://app.lifeos.test"
KID = "trusted-1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value).encode())


def pem_of(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def now_ts() -> int:
    return int(datetime.now(UTC).timestamp())


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "iss": CLERK,
        "sub": "user_2abc",
        "exp": now_ts() + 600,
        "iat": now_ts() - 5,
        "nbf": now_ts() - 5,
        "azp": APP,
        "email": "ada@example.com",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def sign(
    payload: dict[str, Any], key_name: str = "trusted", kid: str | None = KID, **hdr: Any
) -> str:
    headers = {"kid": kid, **hdr} if kid is not None else hdr
    return jwt.encode(payload, pem_of(cached_rsa_key(key_name)), algorithm="RS256", headers=headers)


def hand_made(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64json(header)}.{b64json(payload)}.{b64(signature)}"


@pytest.fixture(scope="session")
def trusted_jwks() -> dict[str, Any]:
    return {"keys": [public_jwk(cached_rsa_key("trusted").public_key(), kid=KID)]}


@pytest.fixture(scope="session")
def verifier(trusted_jwks: dict[str, Any]) -> JwtVerifier:
    return JwtVerifier(CLERK, StaticJwks(trusted_jwks), authorized_parties=[APP])


async def refused(verifier: Any, token: Any) -> str:
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    assert info.value.code == "UNAUTHENTICATED"
    assert len(info.value.message) < 60
    return str(info.value.extensions["reason"])


# --- the good path -----------------------------------------------------------


async def test_valid_token_verifies(verifier: JwtVerifier) -> None:
    exp = now_ts() + 600
    token = await verifier.verify(sign(claims(exp=exp, name="Ada")))
    assert token.subject == "user_2abc"
    assert token.issuer == CLERK
    assert token.email == "ada@example.com" and token.name == "Ada"
    assert token.is_dev is False
    assert token.expires_at == datetime.fromtimestamp(exp, UTC)
    assert token.claims["azp"] == APP
    with pytest.raises(TypeError):
        token.claims["sub"] = "someone else"  # type: ignore[index]


async def test_token_without_azp_is_allowed(verifier: JwtVerifier) -> None:
    token = await verifier.verify(sign(claims(azp=...)))
    assert token.subject == "user_2abc"


async def test_expiry_within_leeway_is_tolerated(verifier: JwtVerifier) -> None:
    assert (await verifier.verify(sign(claims(exp=now_ts() - 10)))).subject == "user_2abc"


# --- refusals, each with its reason ------------------------------------------


async def test_unknown_signing_key_is_refused(verifier: JwtVerifier) -> None:
    assert await refused(verifier, sign(claims(), key_name="attacker", kid="attacker")) == (
        "unknown_key"
    )
    # Same kid as the trusted key, different key material.
    assert await refused(verifier, sign(claims(), key_name="attacker")) == "bad_signature"


async def test_tampered_payload_is_refused(verifier: JwtVerifier) -> None:
    header, _, signature = sign(claims()).split(".")
    forged = f"{header}.{b64json(claims(sub='user_admin'))}.{signature}"
    assert await refused(verifier, forged) == "bad_signature"


async def test_expired_token_is_refused(verifier: JwtVerifier) -> None:
    assert await refused(verifier, sign(claims(exp=now_ts() - 120))) == "expired"


async def test_expiry_uses_the_injected_clock(trusted_jwks: dict[str, Any]) -> None:
    exp = now_ts() + 600
    later = JwtVerifier(
        CLERK,
        StaticJwks(trusted_jwks),
        leeway_seconds=30,
        clock=lambda: datetime.fromtimestamp(exp + 30, UTC),
    )
    assert await refused(later, sign(claims(exp=exp))) == "expired"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", None, ""])
@pytest.mark.parametrize("signature", [b"", b"anything"])
async def test_alg_none_is_refused(verifier: JwtVerifier, alg: Any, signature: bytes) -> None:
    token = hand_made({"alg": alg, "kid": KID, "typ": "JWT"}, claims(), signature)
    assert await refused(verifier, token) == "unsupported_alg"


async def test_empty_signature_is_refused(verifier: JwtVerifier) -> None:
    head, body, _ = sign(claims()).split(".")
    assert await refused(verifier, f"{head}.{body}.") == "bad_signature"


async def test_hs256_keyed_with_the_public_key_is_refused(verifier: JwtVerifier) -> None:
    # CVE-2024-33663: an attacker HMACs a token with the (public) RSA key as
    # the secret and hopes the verifier uses it as an HMAC key.
    public = cached_rsa_key("trusted").public_key()
    secrets_tried = [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        json.dumps(public_jwk(public, kid=KID)).encode(),
    ]
    for secret in secrets_tried:
        for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            head = b64json({"alg": alg, "typ": "JWT", "kid": KID})
            body = b64json(claims())
            mac = hmac.new(secret, f"{head}.{body}".encode(), digest).digest()
            assert await refused(verifier, f"{head}.{body}.{b64(mac)}") == "unsupported_alg"


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256", "rs256", "RS256 "])
async def test_other_algorithms_are_refused(verifier: JwtVerifier, alg: str) -> None:
    _, payload, signature = sign(claims()).split(".")
    swapped = f"{b64json({'alg': alg, 'kid': KID})}.{payload}.{signature}"
    assert await refused(verifier, swapped) == "unsupported_alg"


async def test_rs512_signed_by_the_trusted_key_is_refused(verifier: JwtVerifier) -> None:
    token = jwt.encode(claims(), pem_of(cached_rsa_key("trusted")), "RS512", headers={"kid": KID})
    assert await refused(verifier, token) == "unsupported_alg"


async def test_wrong_issuer_is_refused(verifier: JwtVerifier) -> None:
    assert await refused(verifier, sign(claims(iss="https://evil.test"))) == "wrong_issuer"
    assert await refused(verifier, sign(claims(iss=...))) == "wrong_issuer"
    assert await refused(verifier, sign(claims(iss=[CLERK]))) == "wrong_issuer"


async def test_wrong_azp_is_refused(verifier: JwtVerifier) -> None:
    assert await refused(verifier, sign(claims(azp="https://evil.test"))) == "wrong_party"
    assert await refused(verifier, sign(claims(azp=[APP]))) == "wrong_party"


async def test_azp_is_not_checked_without_configured_parties(trusted_jwks: dict[str, Any]) -> None:
    open_verifier = JwtVerifier(CLERK, StaticJwks(trusted_jwks))
    token = await open_verifier.verify(sign(claims(azp="https://anywhere.test")))
    assert token.subject == "user_2abc"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": ...}, "missing_claim"),
        ({"exp": None}, "missing_claim"),
        ({"sub": ...}, "missing_claim"),
        ({"exp": "tomorrow"}, "invalid_claim"),
        ({"exp": True}, "invalid_claim"),
        ({"exp": 10**400}, "invalid_claim"),
        ({"exp": 1e300}, "invalid_claim"),
        ({"nbf": "soon"}, "invalid_claim"),
        ({"iat": [1]}, "invalid_claim"),
        ({"sub": 42}, "invalid_claim"),
        ({"sub": ""}, "invalid_claim"),
        ({"sub": "x" * 300}, "invalid_claim"),
        ({"nbf": now_ts() + 3600}, "not_yet_valid"),
        ({"iat": now_ts() + 3600}, "not_yet_valid"),
    ],
)
async def test_bad_claims_are_refused(
    verifier: JwtVerifier, overrides: dict[str, Any], reason: str
) -> None:
    assert await refused(verifier, sign(claims(**overrides))) == reason


async def test_missing_kid_is_refused(verifier: JwtVerifier) -> None:
    assert await refused(verifier, sign(claims(), kid=None)) == "missing_kid"
    assert await refused(verifier, sign(claims(), kid="")) == "missing_kid"


@pytest.mark.parametrize("member", ["crit", "jku", "jwk", "x5u"])
async def test_self_describing_or_critical_headers_are_refused(
    verifier: JwtVerifier, member: str
) -> None:
    assert await refused(verifier, sign(claims(), **{member: "x"})) == "malformed"


async def test_jwe_shaped_tokens_are_refused(verifier: JwtVerifier) -> None:
    header = b64json({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": KID})
    five_parts = f"{header}.{b64(os.urandom(256))}.{b64(os.urandom(12))}.{b64(b'x' * 32)}.{b64(os.urandom(16))}"
    assert await refused(verifier, five_parts) == "encrypted"
    three_parts_with_enc = hand_made({"alg": "RS256", "enc": "A256GCM", "kid": KID}, claims(), b"s")
    assert await refused(verifier, three_parts_with_enc) == "encrypted"


RS_HEADER = b64json({"alg": "RS256", "kid": KID})
NAN_PAYLOAD = b64(b'{"exp": NaN, "iss": "x"}')
DUPLICATE_ALG_HEADER = b64(b'{"alg":"RS256","alg":"none","kid":"trusted-1"}')

GARBAGE = [
    "",
    " ",
    "Bearer",
    "abc",
    "a.b",
    "a.b.c",
    "...",
    "a.b.c.d",
    "ü.ü.ü",
    "eyJ.eyJ.eyJ",
    "x" * 20_000,
    f"{b64(b'[1,2]')}.{b64json(claims())}.c2ln",
    f"{b64(b'not json')}.{b64json(claims())}.c2ln",
    f"{b64(bytes([0xFF, 0xFE]))}.{b64json(claims())}.c2ln",
    f"{RS_HEADER}.{b64(b'null')}.c2ln",
    f"{RS_HEADER}.{NAN_PAYLOAD}.c2ln",
    f"{DUPLICATE_ALG_HEADER}.{b64json(claims())}.c2ln",
    f"{RS_HEADER}.{b64json(claims())}.%%%",
    f"{RS_HEADER}.{b64json(claims())}.a",
    f"{b64(b'[' * 100_000)}.{b64json(claims())}.c2ln",
]


@pytest.mark.parametrize("token", GARBAGE, ids=range(len(GARBAGE)))
async def test_garbage_strings_are_refused(verifier: JwtVerifier, token: str) -> None:
    await refused(verifier, token)


@pytest.mark.parametrize("token", [None, b"a.b.c", 42, ["a", "b", "c"]])
async def test_non_string_tokens_are_refused(verifier: JwtVerifier, token: Any) -> None:
    assert await refused(verifier, token) == "malformed"


async def test_random_mutations_of_a_valid_token_only_ever_raise_unauthenticated(
    verifier: JwtVerifier,
) -> None:
    good = sign(claims())
    rng = random.Random(7638)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
    for _ in range(300):
        chars = list(good)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        mutated = "".join(chars)
        if mutated == good:
            continue
        try:
            await verifier.verify(mutated)
        except Unauthenticated:
            continue
        # A flip in base64 padding bits can leave the bytes unchanged; then
        # the token is genuinely the same one and may verify.
        assert base64.urlsafe_b64decode(mutated.split(".")[2] + "==") == (
            base64.urlsafe_b64decode(good.split(".")[2] + "==")
        )


# --- multi-issuer routing and the dev issuer ---------------------------------


@pytest.fixture(scope="session")
def dev_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer.load_or_create(tmp_path_factory.mktemp("dev-data"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir already holding a dev key (as on every run after the first)."""
    key_file = tmp_path / "dev-jwt-key.pem"
    key_file.write_bytes(pem_of(cached_rsa_key("dev")))
    key_file.chmod(0o600)
    return tmp_path


async def test_dev_token_verifies_with_subject_and_email(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("Ada@Example.com", name="Ada Lovelace")
    verified = await dev_issuer.verifier().verify(token)
    assert verified.subject == "dev|ada@example.com"
    assert verified.email == "Ada@Example.com"
    assert verified.name == "Ada Lovelace"
    assert verified.issuer == DEV_ISSUER
    assert verified.is_dev is True
    assert timedelta(hours=11) < verified.expires_at - datetime.now(UTC) <= timedelta(hours=12)
    assert jwt.get_unverified_header(token)["kid"] == dev_issuer.kid


async def test_dev_token_subject_override_and_ttl(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("ada@example.com", subject="user_fixed", ttl=timedelta(minutes=5))
    verified = await dev_issuer.verifier().verify(token)
    assert verified.subject == "user_fixed"
    assert verified.expires_at - datetime.now(UTC) <= timedelta(minutes=5)


async def test_expired_dev_token_is_refused(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("ada@example.com", ttl=timedelta(seconds=1))
    later = JwtVerifier(
        DEV_ISSUER,
        StaticJwks(dev_issuer.jwks()),
        is_dev=True,
        clock=lambda: datetime.now(UTC) + timedelta(minutes=5),
    )
    assert await refused(later, token) == "expired"


async def test_multi_issuer_routes_by_issuer(verifier: JwtVerifier, dev_issuer: DevIssuer) -> None:
    multi = MultiIssuerVerifier([dev_issuer.verifier(), verifier])
    assert (await multi.verify(dev_issuer.mint("ada@example.com"))).is_dev is True
    assert (await multi.verify(sign(claims()))).issuer == CLERK
    assert await refused(multi, sign(claims(iss="https://other.test"))) == "wrong_issuer"
    assert await refused(multi, sign(claims(iss=...))) == "wrong_issuer"
    # A Clerk-signed token claiming the dev issuer is judged with the dev keys.
    assert await refused(multi, sign(claims(iss=DEV_ISSUER), kid=dev_issuer.kid)) == (
        "bad_signature"
    )
    for junk in GARBAGE[:6]:
        await refused(multi, junk)
    with pytest.raises(ValueError):
        MultiIssuerVerifier([verifier, verifier])


def test_dev_key_file_is_private_reused_and_thumbprinted(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / ".lifeos"
    first = DevIssuer.load_or_create(data_dir)
    key_file = data_dir / "dev-jwt-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    second = DevIssuer.load_or_create(data_dir)
    assert second.kid == first.kid
    (jwk,) = first.jwks()["keys"]
    assert jwk["kid"] == thumbprint(jwk) == first.kid
    assert set(jwk) == {"kty", "kid", "use", "alg", "n", "e"}  # public members only
    assert sorted(p.name for p in data_dir.iterdir()) == ["dev-jwt-key.pem"]


def test_concurrent_first_runs_agree_on_one_key(tmp_path: Path) -> None:
    barrier = threading.Barrier(3)
    kids: list[str] = []

    def start() -> None:
        barrier.wait()
        kids.append(DevIssuer.load_or_create(tmp_path).kid)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kids) == 3 and len(set(kids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["dev-jwt-key.pem"]


def test_rfc7638_thumbprint_vector() -> None:
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc"
        "_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0"
        "_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhA"
        "I4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- build_verifier against a local "Clerk" JWKS ------------------------------


@pytest.fixture
def clerk_jwks(trusted_jwks: dict[str, Any]) -> Iterator[JwksServer]:
    with JwksServer(trusted_jwks) as server:
        yield server


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def settings_for(env: str, data_dir: Path, jwks_url: str | None, **extra: Any) -> Any:
    overrides: dict[str, Any] = {"lifeos_env": env, "lifeos_data_dir": data_dir, **extra}
    if jwks_url:
        overrides |= {
            "clerk_issuer": CLERK + "/",
            "clerk_jwks_url": jwks_url,
            "clerk_authorized_parties": APP,
        }
    if env == "prod":
        overrides |= {
            "database_url": "postgresql://lifeos@127.0.0.1/lifeos",
            "lifeos_master_key": base64.b64encode(bytes(32)).decode(),
        }
    return load_settings(**overrides)


async def test_prod_verifier_accepts_clerk_and_refuses_dev_tokens(
    data_dir: Path, clerk_jwks: JwksServer, http_client: httpx.AsyncClient
) -> None:
    prod = build_verifier(settings_for("prod", data_dir, clerk_jwks.url), http_client=http_client)
    assert (await prod.verify(sign(claims()))).subject == "user_2abc"
    assert await refused(prod, sign(claims(azp="https://evil.test"))) == "wrong_party"
    dev_token = DevIssuer.load_or_create(data_dir).mint("ada@example.com")
    assert await refused(prod, dev_token) == "wrong_issuer"


def test_prod_verifier_does_not_create_a_dev_key(tmp_path: Path) -> None:
    build_verifier(settings_for("prod", tmp_path, "https://clerk.lifeos.test/jwks"))
    assert list(tmp_path.iterdir()) == []


async def test_dev_verifier_accepts_dev_and_clerk_tokens(
    data_dir: Path, clerk_jwks: JwksServer, http_client: httpx.AsyncClient
) -> None:
    dev = build_verifier(settings_for("dev", data_dir, clerk_jwks.url), http_client=http_client)
    issuer = DevIssuer.load_or_create(data_dir)
    assert (await dev.verify(issuer.mint("ada@example.com"))).is_dev is True
    assert (await dev.verify(sign(claims()))).is_dev is False
    assert clerk_jwks.fetch_count == 1


async def test_dev_verifier_without_clerk_refuses_clerk_tokens(data_dir: Path) -> None:
    dev = build_verifier(settings_for("dev", data_dir, None))
    assert await refused(dev, sign(claims())) == "wrong_issuer"
    assert (
        await dev.verify(DevIssuer.load_or_create(data_dir).mint("a@b.c"))
    ).subject == "dev|a@b.c"


async def test_unreachable_jwks_is_reported_as_unauthenticated() -> None:
    with JwksServer() as server:
        url = server.url
    # The server is gone: nothing listens on that port any more.
    unreachable = JwtVerifier(CLERK, JwksCache(url, None, timeout_seconds=2))
    assert await refused(unreachable, sign(claims())) == "jwks_unavailable"
