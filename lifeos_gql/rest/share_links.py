"""``GET /v1/share/{token}``: what a share link shows, for anyone holding the URL.

No account is needed. Every way of failing (malformed, unknown, expired or
revoked token, a node the creator can no longer see) answers the same 404
body, so the answer never tells an attacker which one it was. Responses are
never stored by caches, and the URL is kept out of Referer headers.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from lifeos_gql.domains.share_links import service as share_links
from lifeos_gql.domains.share_links.models import (
    SharedCapture,
    SharedInsight,
    SharedNode,
    ShareLink,
)
from lifeos_gql.rest.errors import RouteNotFound, json_error
from lifeos_gql.runtime import Runtime

SHARE_ROUTE = "/share/{token:path}"
_PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _capture(capture: SharedCapture) -> dict[str, Any]:
    return {
        "title": capture.title,
        "content": capture.content,
        "contentTruncated": capture.truncated,
        "occurredAt": capture.occurred_at.isoformat(),
        "stream": {"name": capture.stream_name},
    }


def node_json(node: SharedNode) -> dict[str, Any]:
    """The public JSON of a shared node (no ids: the reader has no use for them)."""
    if isinstance(node, SharedCapture):
        return {"type": "Capture", **_capture(node)}
    if isinstance(node, SharedInsight):
        return {
            "type": "Insight",
            "kind": node.kind,
            "text": node.text,
            "producer": node.producer,
            "generatedAt": node.generated_at.isoformat(),
            "sources": [_capture(c) for c in node.sources],
        }
    return {
        "type": "Concept",
        "name": node.name,
        "kind": node.kind,
        "mentions": [_capture(c) for c in node.mentions],
    }


def _body(link: ShareLink, node: SharedNode) -> dict[str, Any]:
    return {"node": node_json(node), "expiresAt": link.expires_at.isoformat()}


async def get_share(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    opened = await share_links.open_link(
        db=runtime.db,
        system_db=runtime.system_db,
        crypto=runtime.capture_crypto,
        token=str(request.path_params.get("token", "")),
    )
    if opened is None:
        response = json_error(request, RouteNotFound("Share link not found"))
    else:
        response = Response(orjson.dumps(_body(*opened)), media_type="application/json")
    response.headers.update(_PRIVATE_HEADERS)
    return response
