"""The local development issuer: an RSA key kept in the data dir, minting RS256 tokens.

Its tokens go through exactly the verification path Clerk tokens take
(:class:`JwtVerifier` over a JWKS), so dev exercises the production code.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from jose.backends.cryptography_backend import CryptographyRSAKey

from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, ConfigError
from lifeos_gql.infra.auth.jwks import StaticJwks
from lifeos_gql.infra.auth.rsa_jwk import MIN_RSA_BITS, public_jwk
from lifeos_gql.infra.auth.verifier import ALGORITHM, JwtVerifier

logger = logging.getLogger(__name__)

DEV_ISSUER = "urn:lifeos:dev"
KEY_FILE_NAME = "dev-jwt-key.pem"


def dev_subject(email: str) -> str:
    """The stable subject of a dev user: the same email always maps to the same user."""
    return "dev|" + email.strip().lower()


def _write_new_key(path: Path) -> None:
    """Create ``path`` with a fresh key unless it exists; never leave a partial file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # 0600 from the first byte: the key is never readable by others, even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if the name exists, so when two processes start at once
        # exactly one key wins and both then load that one.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("%s is readable by others (mode %o); it should be 0600", path, mode)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise ConfigError(f"{path} is not a PEM private key: delete it to regenerate") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"{path} is not an RSA-{MIN_RSA_BITS}+ key: delete it to regenerate")
    return key


class DevIssuer:
    """Mints and verifies development tokens with one RSA key."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        """Use :meth:`load_or_create` unless you hold a key already."""
        self._jwk = public_jwk(private_key.public_key())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._signing_key = CryptographyRSAKey(pem, ALGORITHM)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DevIssuer:
        """Load ``<data_dir>/dev-jwt-key.pem``, generating it (mode 0600) on first use."""
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            _write_new_key(path)
            logger.info("generated dev token signing key %s", path)
        return cls(_load_key(path))

    @property
    def kid(self) -> str:
        """The key id: the RFC 7638 thumbprint of the public key."""
        return str(self._jwk["kid"])

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (what a ``/.well-known/jwks.json`` would serve)."""
        return {"keys": [dict(self._jwk)]}

    def mint(
        self,
        email: str,
        *,
        name: str | None = None,
        subject: str | None = None,
        ttl: timedelta = timedelta(hours=12),
    ) -> str:
        """A signed dev token for ``email``; ``subject`` defaults to :func:`dev_subject`."""
        if not email.strip() or "@" not in email:
            raise BadInput("email must be an email address")
        if ttl <= timedelta(0):
            raise BadInput("ttl must be positive")
        now = utcnow()
        claims: dict[str, Any] = {
            "iss": DEV_ISSUER,
            "sub": subject or dev_subject(email),
            "email": email.strip(),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._signing_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verifier(self) -> JwtVerifier:
        """A verifier for this issuer's tokens, reading keys through :class:`StaticJwks`."""
        return JwtVerifier(DEV_ISSUER, StaticJwks(self.jwks()), is_dev=True)
