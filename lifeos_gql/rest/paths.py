"""Which requests a per-stream ingest token may authorise.

Kept apart from the routes so the auth middleware can ask without importing
the endpoint code: default deny, one method on one path shape.
"""

from __future__ import annotations

import re

from starlette.types import Scope

CAPTURES_PATH = "/v1/streams/{stream_id}/captures"
_CAPTURES = re.compile(r"/v1/streams/[^/]+/captures")


def accepts_ingest_token(scope: Scope) -> bool:
    """True for ``POST /v1/streams/{streamId}/captures`` (relative to the app's root)."""
    if scope.get("type") != "http" or scope.get("method") != "POST":
        return False
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return _CAPTURES.fullmatch(path) is not None
