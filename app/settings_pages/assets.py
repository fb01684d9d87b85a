"""The pages' stylesheet and script, served by the application (no CDN: the panel works offline),
addressed by a digest of their content and cached for a year, as GraphiQL's assets are."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from app.core.envelope import error_response
from app.core.errors import RouteNotFound

STATIC = Path(__file__).parent / "static"
ASSET_PREFIX = "/settings/assets"
_MEDIA_TYPES = {"settings.css": "text/css; charset=utf-8", "settings.js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    content: bytes
    digest: str

    @property
    def url(self) -> str:
        return f"{ASSET_PREFIX}/{self.digest}/{self.name}"


def _asset(name: str) -> Asset:
    content = (STATIC / name).read_bytes()
    return Asset(name, _MEDIA_TYPES[name], content, hashlib.sha256(content).hexdigest()[:16])


ASSETS = {name: _asset(name) for name in _MEDIA_TYPES}

# Scripts and styles of this origin only, never inline; forms post only here.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))  # fmt: skip


async def asset(request: Request) -> Response:
    found = ASSETS.get(request.path_params["name"])
    if found is None or request.path_params["digest"] != found.digest:
        missing = RouteNotFound(f"No endpoint at {request.method} {request.url.path}.")
        return error_response(missing, request.scope.get("state", {}).get("request_id", ""))
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"cache-control": "public, max-age=31536000, immutable"},
    )
