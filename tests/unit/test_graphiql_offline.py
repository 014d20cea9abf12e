"""GraphiQL must work with no internet: every asset local, pinned and untampered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from lifeos_gql.api.graphiql import (
    BOOTSTRAP_JS,
    FAVICON,
    MANIFEST_PATH,
    NOT_VENDORED,
    PAGE_CSS,
    STATIC_DIR,
    graphiql_static_app,
    load_manifest,
    parse_tags,
    render_graphiql_html,
    sri_sha384,
    upstream_assets,
)

RERUN = "re-run `.venv/bin/python scripts/vendor_graphiql.py` and commit the result"
OWN_FILES = {BOOTSTRAP_JS, PAGE_CSS, FAVICON, MANIFEST_PATH.name}

# --- what counts as "the browser fetches this URL at run time" -------------
#
# Vendored bundles are full of absolute URLs that are never fetched: licence
# headers, "see https://reactjs.org/link/..." messages, <a href> links the
# user may click, XML namespaces ("http://www.w3.org/2000/svg"). A fetch is
# an absolute URL in a *loading position*: CSS url()/@import, a dynamic or
# static import, fetch/XHR-like constructors, a src attribute or property, a
# <link href> in markup, setAttribute("src"|"href", ...). Any reference to a
# public CDN or font host outside a comment is flagged too, wherever it is.

_ABS = r"(?:(?:https?|wss?):)?//[A-Za-z0-9][A-Za-z0-9.-]*"
_Q = r"""\\?["'`]"""
_JS_LOADS = [
    rf"\bimport\s*\(\s*{_Q}",
    rf"\b(?:import|from)\s*{_Q}",
    r"\b(?:importScripts|fetch|Worker|SharedWorker|WebSocket|EventSource|sendBeacon)\s*\(\s*" + _Q,
    rf"\b(?:src|srcset|poster)\s*[=:]\s*{_Q}?",
    rf"setAttribute\s*\(\s*{_Q}(?:src|href){_Q}\s*,\s*{_Q}",
    rf"<link\b[^>]{{0,200}}?\bhref\s*=\s*{_Q}?",
    rf"\burl\(\s*{_Q}?\s*",
    rf"@import\s+(?:url\()?\s*{_Q}?",
]
# Cheap anchor first (the bundle is 3.5 MB), then the text just before it.
_URL_START = re.compile(r"//[A-Za-z0-9]")
_LOAD_BEFORE = re.compile(rf"(?:{'|'.join(_JS_LOADS)})(?:(?:https?|wss?):)?$")
_CDN_HOSTS = re.compile(
    r"//(?:unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|"
    r"fonts\.gstatic\.com|esm\.sh|cdn\.skypack\.dev|ga\.jspm\.io)\b"
)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_REFS = re.compile(r"""(?:\burl\(\s*["']?|@import\s+["'])([^"')\s;]+)""")


def _is_comment_line(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].lstrip().startswith(("//", "*", "/*"))


def js_runtime_fetches(source: str) -> list[str]:
    """Absolute URLs a browser would load when running this JS (see the rules above)."""
    found: list[str] = []
    for match in _URL_START.finditer(source):
        start = match.start()
        if _is_comment_line(source, start):
            continue
        loads = _LOAD_BEFORE.search(source, max(0, start - 250), start)
        if loads or _CDN_HOSTS.match(source, start):
            found.append(source[max(0, start - 40) : start + 80])
    return found


def css_runtime_fetches(source: str) -> tuple[list[str], list[str]]:
    """(absolute, relative) URLs this stylesheet makes the browser load; data: URIs are inline."""
    absolute: list[str] = []
    relative: list[str] = []
    for ref in _CSS_REFS.findall(_CSS_COMMENT.sub("", source)):
        if ref.startswith("data:") or ref.startswith("#"):
            continue
        if re.match(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)", ref):
            absolute.append(ref)
        else:
            relative.append(ref)
    return absolute, relative


# --- helpers ----------------------------------------------------------------


def _asset_refs(page: str) -> list[tuple[str, str, str | None]]:
    """(tag, url, integrity) for every script src / link href of the page."""
    refs: list[tuple[str, str, str | None]] = []
    for tag, attrs in parse_tags(page):
        url = attrs.get("src") if tag == "script" else attrs.get("href") if tag == "link" else None
        if url is not None:
            refs.append((tag, url, attrs.get("integrity")))
    return refs


def _local_file(url: str, prefix: str) -> Path:
    assert url.startswith(prefix + "/"), f"{url} is not under {prefix}"
    return STATIC_DIR / url[len(prefix) + 1 :].split("?", 1)[0]


# --- the page ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("graphql_path", "prefix"), [("/graphql", "/static/graphiql"), ("/api/gql", "/assets/gq")]
)
def test_page_references_only_local_assets_with_matching_integrity(
    graphql_path: str, prefix: str
) -> None:
    page = render_graphiql_html(graphql_path=graphql_path, static_prefix=prefix)

    assert not re.search(r"(?i)\b(?:https?|wss?|ftp):", page), "page names an external scheme"
    assert "//" not in page, "protocol-relative URL in page"
    assert f'data-graphql-path="{graphql_path}"' in page

    refs = _asset_refs(page)
    scripts = [url for tag, url, _ in refs if tag == "script"]
    assert len(scripts) == 5
    for tag, url, integrity in refs:
        path = _local_file(url, prefix)
        assert path.is_file(), f"{url} is referenced but {path} does not exist; {RERUN}"
        if tag == "script" or url.split("?")[0].endswith(".css"):
            assert integrity == sri_sha384(path.read_bytes()), f"integrity mismatch for {url}"


def test_page_has_no_inline_script_so_a_strict_csp_works() -> None:
    page = render_graphiql_html()
    bodies = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.DOTALL)
    assert bodies and all(body.strip() == "" for body in bodies)
    assert "<style" not in page


def test_scripts_load_dependencies_first() -> None:
    scripts = [url for tag, url, _ in _asset_refs(render_graphiql_html()) if tag == "script"]
    order = ["/react@", "/react-dom@", "/graphiql@", "/graphiql-plugin-explorer@", BOOTSTRAP_JS]
    positions = [next(i for i, u in enumerate(scripts) if key in u) for key in order]
    assert positions == sorted(positions)


def test_render_is_cached() -> None:
    assert render_graphiql_html() is render_graphiql_html()


@pytest.mark.parametrize(
    "bad", ["https://evil.example/graphql", "//evil.example/graphql", "graphql", "/\\evil"]
)
def test_render_refuses_anything_but_a_local_path(bad: str) -> None:
    with pytest.raises(ValueError):
        render_graphiql_html(graphql_path=bad)
    with pytest.raises(ValueError):
        render_graphiql_html(static_prefix=bad)


def test_attribute_values_are_escaped() -> None:
    page = render_graphiql_html(graphql_path='/g"><script>x</script>')
    assert '<script>x</script>"' not in page
    assert 'data-graphql-path="/g&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page


# --- manifest versus Strawberry's own page ----------------------------------


def test_manifest_pins_exactly_what_strawberrys_page_loads() -> None:
    upstream = upstream_assets()
    assert upstream, "could not find the CDN assets in Strawberry's graphiql.html"
    vendored = {(f.package, f.version, f.source): f for f in load_manifest() if f.role != "license"}

    for asset in upstream:
        if asset.package in NOT_VENDORED:
            continue
        entry = vendored.pop((asset.package, asset.version, asset.path), None)
        assert entry is not None, (
            f"Strawberry's GraphiQL page now loads {asset.package}@{asset.version}/{asset.path}, "
            f"which is not vendored: {RERUN}"
        )
        assert entry.integrity == asset.integrity, f"{asset.path}: SRI differs; {RERUN}"
        assert entry.role == asset.role
    assert not vendored, f"vendored files Strawberry's page no longer loads: {list(vendored)}"
    assert set(NOT_VENDORED) <= {a.package for a in upstream}, "stale NOT_VENDORED entry"


def test_manifest_files_are_on_disk_untampered_and_nothing_else_is() -> None:
    entries = load_manifest()
    for entry in entries:
        data = (STATIC_DIR / entry.file).read_bytes()
        assert sri_sha384(data) == entry.integrity, f"{entry.file} changed on disk; {RERUN}"
    on_disk = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*") if p.is_file()}
    assert on_disk == {e.file for e in entries} | OWN_FILES


# --- vendored code fetches nothing from the internet ------------------------


def _page_code() -> list[Path]:
    files = [STATIC_DIR / e.file for e in load_manifest() if e.role in ("script", "stylesheet")]
    return [*files, STATIC_DIR / BOOTSTRAP_JS, STATIC_DIR / PAGE_CSS]


@pytest.mark.parametrize("path", _page_code(), ids=lambda p: p.name)
def test_page_code_loads_nothing_from_another_host(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".css":
        absolute, relative = css_runtime_fetches(source)
        assert absolute == []
        for ref in relative:  # would be fetched from our server: must be vendored too
            assert (path.parent / ref.split("?")[0].split("#")[0]).is_file(), ref
    else:
        assert js_runtime_fetches(source) == []


@pytest.mark.parametrize(
    "snippet",
    [
        'import("https://esm.sh/react")',
        "import x from 'https://cdn.example.org/x.js'",
        'importScripts("//cdn.example.org/worker.js")',
        'fetch("https://api.example.org/v1")',
        "new Worker(`https://cdn.example.org/w.js`)",
        's.src="https://cdn.example.org/a.js"',
        'createElement("img",{src:"https://img.example.org/a.png"})',
        'el.setAttribute("href", "https://cdn.example.org/a.css")',
        '\'<link rel="stylesheet" href="https://cdn.example.org/a.css">\'',
        'style.textContent="@font-face{src:url(https://fonts.example.org/f.woff2)}"',
        'const base = "https://unpkg.com/monaco-editor@0.1/min/vs"',
    ],
)
def test_js_detector_flags_runtime_fetches(snippet: str) -> None:
    assert js_runtime_fetches(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "/**\n * @license MIT https://opensource.org/licenses/MIT\n */",
        "// FIXME: https://github.com/graphql/graphql-js/issues/2203",
        '  * see <script src="https://unpkg.com/graphiql"></script> in the docs',
        "error('See https://reactjs.org/link/warning-keys for more information.')",
        'createElement("a",{href:"https://github.com/OneGraph/graphiql-explorer"})',
        'createElementNS("http://www.w3.org/2000/svg","svg")',
        'var msg = "loaded from https://example.org is not allowed"',
    ],
)
def test_js_detector_ignores_links_docs_and_namespaces(snippet: str) -> None:
    assert js_runtime_fetches(snippet) == []


def test_css_detector() -> None:
    css = (
        "/* fonts from https://fonts.googleapis.com/css */"
        "@import url('https://fonts.googleapis.com/css2?family=Fira');"
        "@font-face{src:url(data:font/woff2;base64,AAAA)}"
        ".a{background:url(//cdn.example.org/x.png)}"
        '.b{background:url("img/local.png")}'
    )
    absolute, relative = css_runtime_fetches(css)
    assert absolute == [
        "https://fonts.googleapis.com/css2?family=Fira",
        "//cdn.example.org/x.png",
    ]
    assert relative == ["img/local.png"]


# --- serving ------------------------------------------------------------------


def test_static_app_serves_assets_with_cache_headers() -> None:
    app = Starlette(routes=[Mount("/static/graphiql", graphiql_static_app())])
    vendored = next(e for e in load_manifest() if e.role == "script")
    with TestClient(app) as client:
        pinned = client.get(f"/static/graphiql/{vendored.file}")
        assert pinned.status_code == 200
        assert sri_sha384(pinned.content) == vendored.integrity
        assert "immutable" in pinned.headers["cache-control"]
        assert "javascript" in pinned.headers["content-type"]

        own = client.get(f"/static/graphiql/{BOOTSTRAP_JS}")
        assert own.status_code == 200
        assert own.headers["cache-control"] == "no-cache"
        again = client.get(
            f"/static/graphiql/{BOOTSTRAP_JS}", headers={"if-none-match": own.headers["etag"]}
        )
        assert again.status_code == 304

        assert client.get("/static/graphiql/nope.js").status_code == 404
