"""The ASGI application: GraphQL, health checks and whatever routes the composition root adds."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from app.core import db, jobs, processes
from app.core.envelope import error_response, json_response
from app.core.errors import MethodNotAllowed, RouteNotFound
from app.core.metrics_http import HttpMetricsMiddleware, api_listener, metrics_endpoint
from app.core.middleware import RequestContextMiddleware
from app.core.ratelimit import RateLimiter
from app.graphql import graphiql
from app.graphql.endpoint import graphql_endpoint
from app.graphql.subscriptions import GraphQLSubscriptions
from app.settings import get_settings
from app.settings_pages.routes import routes as settings_pages
from app.webhooks import sending


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    try:
        async with db.engine().connect() as conn:
            await conn.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    try:
        checks["broker"] = "ok" if limiter is not None and await limiter.ping() else "unavailable"
    except Exception:
        checks["broker"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "")
    status = getattr(exc, "status_code", 500)
    if status == 405:
        # Starlette names the methods the path does serve: say them, as RFC 9110 asks.
        return error_response(MethodNotAllowed(), request_id, dict(getattr(exc, "headers", None) or {}))
    return error_response(RouteNotFound(f"No endpoint at {request.method} {request.url.path}."), request_id)


def build_app(extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not db.is_configured():
            # Served directly (`uvicorn rest_compat.asgi:app`): find the databases the way the CLI
            # does, from DATABASE_URL / REDIS_URL or the embedded servers of the data dir.
            from app.core.embedded import bootstrap

            services = bootstrap(migrate=False)
            settings.redis_url = settings.redis_url or services.redis_url
        limiter = RateLimiter(settings.redis_url) if settings.redis_url else None
        app.state.rate_limiter = limiter
        jobs.configure(settings.redis_url)
        metrics_listener = api_listener(asyncio.get_running_loop())
        # Everything built so far (modules, schema, app) lives as long as the process. Frozen out
        # of the cyclic collector's sight, it is not rescanned by every full collection, which
        # allocation-heavy requests (a 1,000-mission import) otherwise trigger at ~100 ms apiece.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if metrics_listener is not None:
                metrics_listener.stop()
            jobs.close()
            processes.shutdown()
            await sending.close()
            if limiter is not None:
                await limiter.close()
            await db.dispose()

    routes: list[Any] = [
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", GraphQLSubscriptions()),
        *graphiql.routes(),
        *settings_pages(),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *extra_routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    app.add_middleware(RequestContextMiddleware)
    # Outermost: it sees the answer the request context middleware made of an unexpected error.
    app.add_middleware(HttpMetricsMiddleware)
    return app
