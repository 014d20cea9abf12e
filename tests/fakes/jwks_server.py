"""A real HTTP JWKS endpoint on 127.0.0.1, for tests of key fetching and rotation.

It counts requests, can answer with an error status, and can hold responses
until the test releases them (to line up concurrent callers without sleeps).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

JWKS_PATH = "/.well-known/jwks.json"


class JwksServer:
    """Serves a mutable JWKS document at ``url`` from a background thread."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._document: dict[str, Any] = document or {"keys": []}
        self._status = 200
        self._body_override: bytes | None = None
        self.fetch_count = 0
        self.request_seen = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{JWKS_PATH}"

    def set_document(self, document: dict[str, Any]) -> None:
        with self._lock:
            self._document = document

    def set_response(self, status: int = 200, body: bytes | None = None) -> None:
        """Answer with ``status`` (and ``body`` instead of the document, if given)."""
        with self._lock:
            self._status = status
            self._body_override = body

    def hold(self) -> None:
        """Hold every response until :meth:`release`."""
        self.request_seen.clear()
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def _reply(self) -> tuple[int, bytes]:
        with self._lock:
            self.fetch_count += 1
            body = self._body_override
            if body is None:
                body = json.dumps(self._document).encode()
            return self._status, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                status, body = server._reply()
                server.request_seen.set()
                server.gate.wait(timeout=10)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


_KEYS: dict[str, rsa.RSAPrivateKey] = {}
_KEYS_LOCK = threading.Lock()


def cached_rsa_key(name: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """A private RSA key generated once per test session per ``name``."""
    with _KEYS_LOCK:
        key = _KEYS.get(f"{name}/{bits}")
        if key is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            _KEYS[f"{name}/{bits}"] = key
        return key
