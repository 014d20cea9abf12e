"""Master keys: the keys that wrap every user's data key.

A :class:`MasterKeyring` holds one *current* master key, used for all new
wrapping, and any number of *previous* keys, accepted for unwrapping only.
Each key is known by a short id derived from a domain-separated SHA-256 of
the key, so the id can be stored next to every wrapped key and printed in
logs without revealing anything about the key itself.

Zero-downtime rotation with several processes (rolling deploy):

1. Deploy with ``LIFEOS_PREVIOUS_MASTER_KEYS=<new>`` (current unchanged), so
   every process can already unwrap keys wrapped with the new key.
2. Deploy with ``LIFEOS_MASTER_KEY=<new>`` and ``LIFEOS_PREVIOUS_MASTER_KEYS=<old>``:
   new data keys are wrapped with the new key, old ones still unwrap.
3. Run ``lifeos-gql rotate-master-key`` (see :mod:`.rotation`) until it
   reports nothing stale, then drop the old key from the previous list.

Step 1 can be skipped with a single process, or when a short window where
old processes cannot read brand-new users' keys is acceptable.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lifeos_gql.core.errors import ConfigError
from lifeos_gql.infra.crypto.errors import UnknownMasterKeyError

KEY_BYTES = 32
DEV_KEY_FILE = "master.key"
MASTER_KEY_VAR = "LIFEOS_MASTER_KEY"
PREVIOUS_KEYS_VAR = "LIFEOS_PREVIOUS_MASTER_KEYS"

# Domain separation: the id hash can never collide with any other use of
# SHA-256 over the key (e.g. a future KDF input).
_KEY_ID_DOMAIN = b"lifeos/master-key-id/v1\x00"


def master_key_id(key: bytes) -> str:
    """Return the stable public id (16 hex chars) of a master key."""
    return hashlib.sha256(_KEY_ID_DOMAIN + key).digest()[:8].hex()


class MasterKey:
    """One 32-byte master key with its id and a reusable AES-GCM instance."""

    __slots__ = ("aead", "key_id")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a master key must be {KEY_BYTES} bytes, got {len(key)}")
        self.key_id = master_key_id(key)
        # Only the AESGCM object keeps the key material; nothing here prints it.
        self.aead = AESGCM(key)

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"


class MasterKeyring:
    """The current master key plus previous keys still accepted for unwrapping."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        self.current = MasterKey(current)
        keys = {self.current.key_id: self.current}
        for raw in previous:
            key = MasterKey(raw)
            keys.setdefault(key.key_id, key)
        self._keys = keys

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Ids of every usable key, current first."""
        return tuple(self._keys)

    def get(self, key_id: str) -> MasterKey:
        """Return the key with this id or raise :class:`UnknownMasterKeyError`."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownMasterKeyError(key_id) from None

    def __repr__(self) -> str:
        return f"MasterKeyring(current={self.current.key_id!r}, ids={list(self._keys)!r})"

    @classmethod
    def from_settings(
        cls,
        master_key_b64: str | None,
        previous_b64: Sequence[str],
        data_dir: Path,
        allow_generate: bool,
    ) -> MasterKeyring:
        """Build the keyring from settings.

        With no master key configured, dev (``allow_generate``) uses
        ``<data_dir>/master.key``, creating it with 32 random bytes on first
        run; prod raises :class:`ConfigError` naming ``LIFEOS_MASTER_KEY``.
        ``previous_b64`` is the parsed ``LIFEOS_PREVIOUS_MASTER_KEYS`` list.
        """
        if master_key_b64:
            current = decode_key(master_key_b64, MASTER_KEY_VAR)
        elif allow_generate:
            current = load_or_create_dev_key(data_dir / DEV_KEY_FILE)
        else:
            raise ConfigError(
                f"{MASTER_KEY_VAR} is required: base64 of 32 random bytes "
                '(python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())")'
            )
        previous = [
            decode_key(value, f"{PREVIOUS_KEYS_VAR}[{index}]")
            for index, value in enumerate(previous_b64)
        ]
        return cls(current, previous)


def decode_key(value: str, name: str) -> bytes:
    """Decode a base64 master key; the error names the setting, never the value."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"invalid setting {name}: must be base64 of 32 bytes") from None
    if len(raw) != KEY_BYTES:
        raise ConfigError(
            f"invalid setting {name}: must be base64 of 32 bytes, got {len(raw)} bytes"
        )
    return raw


def load_or_create_dev_key(path: Path) -> bytes:
    """Read the dev master key file, creating it (mode 0600) if absent.

    Creation is atomic and race-free: the key is written and fsynced to a
    private temporary file, then hard-linked into place, which fails if
    another process got there first; the loser then reads the winner's key.
    A reader therefore never sees a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        encoded = base64.b64encode(os.urandom(KEY_BYTES)) + b"\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(encoded)
                handle.flush()
                os.fsync(handle.fileno())
            # Losing the race is fine: we read the winner's key below.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            _fsync_dir(path.parent)
        finally:
            os.unlink(tmp)
    return _read_dev_key(path)


def _read_dev_key(path: Path) -> bytes:
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"{path} is readable by other users; run: chmod 600 {path}")
    return decode_key(path.read_bytes().decode("ascii", errors="replace"), str(path))


def _fsync_dir(directory: Path) -> None:
    # Make the new directory entry durable, so a crash cannot lose the key
    # after data was already encrypted under it.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
