"""GraphiQL at GET /graphql, served entirely by the application: the page, GraphiQL, React and the
explorer plugin come from `static/` (see its README), so the IDE works offline and on networks that
block public CDNs. Assets are addressed by a digest of their content and cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.core.envelope import error_response
from app.core.errors import RouteNotFound

STATIC = Path(__file__).parent / "static"
ASSET_PREFIX = "/graphql/assets"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
# The only files the asset route serves: a name not listed here is not found, whatever its path.
_MEDIA_TYPES = {
    "react.production.min.js": _JS,
    "react-dom.production.min.js": _JS,
    "graphiql.min.js": _JS,
    "plugin-explorer.umd.js": _JS,
    "graphiql-page.js": _JS,
    "graphiql.min.css": _CSS,
    "plugin-explorer.css": _CSS,
    "graphiql-page.css": _CSS,
}
_IMMUTABLE = "public, max-age=31536000, immutable"
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    digest: str  # of the content: a new release of a file gets a new URL, so caches never go stale

    @property
    def url(self) -> str:
        return f"{ASSET_PREFIX}/{self.digest}/{self.name}"


def _asset(name: str) -> Asset:
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:16]
    return Asset(name, _MEDIA_TYPES[name], digest)


ASSETS = {name: _asset(name) for name in _MEDIA_TYPES}


def _page() -> str:
    styles = ("graphiql.min.css", "plugin-explorer.css", "graphiql-page.css")
    # React first, then GraphiQL (which reads window.React), the plugin (window.GraphiQL), our setup.
    scripts = (
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "plugin-explorer.umd.js",
        "graphiql-page.js",
    )
    links = "\n".join(f'<link rel="stylesheet" href="{ASSETS[n].url}">' for n in styles)
    tags = "\n".join(f'<script src="{ASSETS[n].url}"></script>' for n in scripts)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rouptimize GraphiQL</title>
<link rel="icon" href="data:,">
{links}
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
{tags}
</body>
</html>
"""


PAGE = _page()


def content_security_policy(host: str | None) -> str:
    """Only this origin's scripts, styles and connections. Styles also allow 'unsafe-inline' because
    GraphiQL's dialogs inject a <style> element (their scroll lock); its fonts are data: URLs inside
    its stylesheet. The WebSocket origins are named because older browsers' 'self' omits ws:/wss:."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        f"connect-src 'self'{sockets}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ))  # fmt: skip


def page_response(request: Request) -> Response:
    return HTMLResponse(
        PAGE,
        headers={
            "content-security-policy": content_security_policy(request.headers.get("host")),
            "cache-control": "no-cache",  # the page names the assets' current digests
        },
    )


@cache
def _content(name: str) -> tuple[bytes, bytes]:
    """An asset's bytes and their gzip encoding, read on first use: GraphiQL's 3.5 MB bundle is
    about 0.8 MB compressed, which is what a slow analyst link waits for."""
    raw = (STATIC / name).read_bytes()
    return raw, gzip.compress(raw, compresslevel=9, mtime=0)


async def asset(request: Request) -> Response:
    found = ASSETS.get(request.path_params["name"])
    if found is None or request.path_params["digest"] != found.digest:
        missing = RouteNotFound(f"No endpoint at {request.method} {request.url.path}.")
        return error_response(missing, request.scope.get("state", {}).get("request_id", ""))
    raw, compressed = _content(found.name)
    headers = {"cache-control": _IMMUTABLE, "vary": "accept-encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(compressed, media_type=found.media_type, headers=headers)
    return Response(raw, media_type=found.media_type, headers=headers)


def routes() -> list[Route]:
    return [Route(ASSET_PREFIX + "/{digest}/{name}", asset, methods=["GET"])]
