"""Serving the metrics: the HTTP middleware that counts requests, `GET /metrics` on the API's port,
and a listener of its own (a thread) for the API's METRICS_PORT and for each worker.

Where the API's metrics are served:
- METRICS_PORT set: on that port (at METRICS_HOST) only; the public port answers 404.
- otherwise on the public port, except in production without a METRICS_TOKEN (404 there too).
With a METRICS_TOKEN, every /metrics (API or worker, either port) asks for `Bearer <token>`: 401.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.envelope import error_response
from app.core.errors import RouteNotFound, Unauthorized
from app.core.logging import get_logger
from app.settings import Settings, get_settings

log = get_logger("rouptimize.metrics")


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by the template of the route that served it
    (`/api/v1/missions/{id}`), never by its path: ids stay out of the labels."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The router records the route it chose in the scope it was handed, this very dict.
            route = getattr(scope.get("route"), "path", None)
            metrics.record_request(scope["method"], route, status, time.perf_counter() - started)


def public_metrics_refused(settings: Settings) -> bool:
    """Whether the API's own port keeps /metrics to itself (404)."""
    return settings.metrics_port is not None or (settings.is_production and not settings.metrics_token)


async def metrics_endpoint(request: Request) -> Response:
    settings = get_settings()
    request_id = request.scope.get("state", {}).get("request_id", "")
    if public_metrics_refused(settings):
        return error_response(RouteNotFound(f"No endpoint at GET {request.url.path}."), request_id)
    if settings.metrics_token and not metrics.bearer_matches(
        request.headers.get("authorization"), settings.metrics_token
    ):
        return _unauthorized(request_id)
    await metrics.outbox.refresh()
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(REGISTRY), headers={"Content-Type": content_type})


def _unauthorized(request_id: str) -> Response:
    return error_response(
        Unauthorized("/metrics needs the metrics bearer token."), request_id, {"WWW-Authenticate": "Bearer"}
    )


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes every few seconds would drown the logs


class MetricsListener:
    """`/metrics` on a port of its own, served by threads of this process. `before_scrape` runs first
    on each scrape (the API refreshes the outbox figures through it)."""

    def __init__(self, host: str, port: int, before_scrape: Callable[[], None] | None = None) -> None:
        self.token = get_settings().metrics_token
        self.before_scrape = before_scrape
        self.exposition = make_wsgi_app(REGISTRY)
        self.server = make_server(host, port, self._app, _Server, _QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics-listener", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def start(self) -> MetricsListener:
        self.thread.start()
        log.info("metrics_listening", port=self.port)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found: the metrics are at GET /metrics.\n"]
        if self.token and not metrics.bearer_matches(environ.get("HTTP_AUTHORIZATION"), self.token):
            headers = [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")]
            start_response("401 Unauthorized", headers)
            return [b"/metrics needs the metrics bearer token.\n"]
        if self.before_scrape is not None:
            self.before_scrape()
        return self.exposition(environ, start_response)  # type: ignore[no-any-return]


def api_listener(loop: asyncio.AbstractEventLoop) -> MetricsListener | None:
    """The API's listener on METRICS_PORT, if set. The outbox query runs on the API's event loop
    (where its database pool lives); the scrape's thread waits for it, the loop does not."""
    settings = get_settings()
    if settings.metrics_port is None:
        return None

    def refresh() -> None:
        try:
            done = asyncio.run_coroutine_threadsafe(metrics.outbox.refresh(), loop)
            done.result(metrics.REFRESH_TIMEOUT + 1)
        except Exception:  # a slow database must not fail the whole scrape
            log.warning("outbox_metrics_unavailable")

    return MetricsListener(settings.metrics_host, settings.metrics_port, refresh).start()
