"""GraphiQL served entirely from this server, so it works with no internet.

Strawberry's default GraphiQL page loads React, GraphiQL and the explorer
plugin from a public CDN. ``scripts/vendor_graphiql.py`` copies the very same
files (same npm versions, same bytes, same SRI hashes) into
``static/graphiql/`` with a ``MANIFEST.json``; this module renders a page
that loads them from ``static_prefix`` and serves that directory.

The page has no inline script or style: the bootstrap code is
``static/graphiql/lifeos-graphiql.js`` and reads its settings from ``data-``
attributes, so a strict ``script-src 'self'`` CSP can be used.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import strawberry
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
MANIFEST_PATH = STATIC_DIR / "MANIFEST.json"

# Our own (not vendored) assets in STATIC_DIR: written by hand, committed.
BOOTSTRAP_JS = "lifeos-graphiql.js"
PAGE_CSS = "lifeos-graphiql.css"
FAVICON = "favicon.svg"

# Assets of Strawberry's page deliberately left out, with the reason.
NOT_VENDORED: dict[str, str] = {
    "js-cookie": "only reads Django's csrftoken cookie; LifeOS authenticates with bearer tokens",
}

# Vendored files live under "<package>@<version>/", so their URL changes with
# their content and browsers may cache them forever.
_IMMUTABLE = "public, max-age=31536000, immutable"
# Own files keep their name across edits: revalidate (ETag / Last-Modified).
_REVALIDATE = "no-cache"

_UNPKG = re.compile(
    r"^https://unpkg\.com/(?P<package>(?:@[^/@]+/)?[^/@]+)@(?P<version>[^/]+)/(?P<path>.+)$"
)


@dataclass(frozen=True)
class UpstreamAsset:
    """One script or stylesheet that Strawberry's own GraphiQL page loads from a CDN."""

    package: str
    version: str
    path: str
    integrity: str
    role: str  # "script" | "stylesheet"


@dataclass(frozen=True)
class VendoredFile:
    """One file copied from an npm package into STATIC_DIR (a MANIFEST.json entry)."""

    file: str  # path relative to STATIC_DIR, "/"-separated
    package: str
    version: str
    source: str  # path inside the npm package
    integrity: str  # "sha384-<base64>"
    role: str  # "script" | "stylesheet" | "license"


class _TagCollector(HTMLParser):
    """Collects (tag, attributes) of every start tag in a document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse_tags(document: str) -> list[tuple[str, dict[str, str | None]]]:
    """Return ``(tag, attributes)`` for every start tag of an HTML document, in order."""
    collector = _TagCollector()
    collector.feed(document)
    collector.close()
    return collector.tags


def sri_sha384(data: bytes) -> str:
    """Subresource-integrity value (``sha384-<base64>``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def strawberry_template() -> str:
    """The GraphiQL page shipped with the installed Strawberry."""
    path = Path(strawberry.__file__).parent / "static" / "graphiql.html"
    return path.read_text(encoding="utf-8")


def upstream_assets() -> list[UpstreamAsset]:
    """Every CDN asset Strawberry's GraphiQL page loads, in page order."""
    assets: list[UpstreamAsset] = []
    for tag, attrs in parse_tags(strawberry_template()):
        if tag == "script":
            url, role = attrs.get("src"), "script"
        elif tag == "link" and attrs.get("rel") == "stylesheet":
            url, role = attrs.get("href"), "stylesheet"
        else:
            continue
        match = _UNPKG.match(url or "")
        if match is None:
            continue
        assets.append(
            UpstreamAsset(
                package=match["package"],
                version=match["version"],
                path=match["path"],
                integrity=attrs.get("integrity") or "",
                role=role,
            )
        )
    return assets


def load_manifest(path: Path = MANIFEST_PATH) -> list[VendoredFile]:
    """The vendored files listed in MANIFEST.json, in load order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [VendoredFile(**entry) for entry in raw["files"]]


def _check_path(name: str, value: str) -> str:
    # Only same-origin absolute paths: a host here would defeat "offline".
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        raise ValueError(f"{name} must be a path on this server like '/graphql', got {value!r}")
    return value.rstrip("/") or "/"


def _own_asset_url(prefix: str, name: str) -> tuple[str, str]:
    """URL (with a content-hash query to bust caches) and SRI of one of our own assets."""
    data = (STATIC_DIR / name).read_bytes()
    version = hashlib.sha256(data).hexdigest()[:12]
    return f"{prefix}/{name}?v={version}", sri_sha384(data)


@cache
def render_graphiql_html(
    *, graphql_path: str = "/graphql", static_prefix: str = "/static/graphiql"
) -> str:
    """The GraphiQL page, loading every asset from ``static_prefix`` on this server.

    ``graphql_path`` is where queries are POSTed; subscriptions use the
    WebSocket at the same path on the same origin. The result is cached per
    argument pair (assets are read and hashed once).
    """
    graphql_path = _check_path("graphql_path", graphql_path)
    prefix = _check_path("static_prefix", static_prefix).rstrip("/")  # "/" -> ""
    esc = html.escape

    head: list[str] = []
    body: list[str] = []
    for entry in load_manifest():
        url = esc(f"{prefix}/{entry.file}")
        if entry.role == "stylesheet":
            head.append(f'<link rel="stylesheet" href="{url}" integrity="{entry.integrity}" />')
        elif entry.role == "script":
            body.append(f'<script src="{url}" integrity="{entry.integrity}"></script>')
    css_url, css_sri = _own_asset_url(prefix, PAGE_CSS)
    js_url, js_sri = _own_asset_url(prefix, BOOTSTRAP_JS)
    head.append(f'<link rel="stylesheet" href="{esc(css_url)}" integrity="{css_sri}" />')
    body.append(f'<script src="{esc(js_url)}" integrity="{js_sri}"></script>')

    newline = "\n    "
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>LifeOS GraphiQL</title>
    <link rel="icon" type="image/svg+xml" href="{esc(prefix)}/{FAVICON}" />
    {newline.join(head)}
  </head>
  <body>
    <div id="graphiql" data-graphql-path="{esc(graphql_path)}">Loading…</div>
    {newline.join(body)}
  </body>
</html>
"""


class _CachingStaticFiles(StaticFiles):
    """StaticFiles that adds Cache-Control: forever for versioned paths, revalidate otherwise."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        relative = Path(full_path).resolve().relative_to(STATIC_DIR.resolve())
        versioned = "@" in relative.parts[0] and len(relative.parts) > 1
        response.headers["Cache-Control"] = _IMMUTABLE if versioned else _REVALIDATE
        return response


def graphiql_static_app() -> StaticFiles:
    """ASGI app serving the GraphiQL assets; mount it at ``/static/graphiql``."""
    return _CachingStaticFiles(directory=STATIC_DIR)
