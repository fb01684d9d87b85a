"""Endpoint declarations -> Starlette routes, all served by one generic handler.

The handler applies the contract's order of checks: authentication (401) -> scope (403) ->
idempotent replay -> path record (404) -> body (400/413/415) -> validation (422) -> state rules.
"""

from __future__ import annotations

import inspect
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core import gateway
from app.core.bodies import read_capped
from app.core.db import UnitOfWork, unit_of_work
from app.core.envelope import error_response, json_response
from app.core.errors import DomainError, InsufficientScope, PayloadTooLarge
from app.core.pagination import Page
from app.core.principal import ANONYMOUS, ActorType, Principal, Scope, Source
from app.core.schemas import to_public, to_public_many
from app.settings import get_settings
from rest_compat.params import parse_body, parse_query
from rest_compat.spec import Call, Endpoint

PREFIXES = {"api": "/api/v1", "settings": "/companies/me", "auth": "/auth"}


def routes(endpoints: list[Endpoint]) -> list[Route]:
    """One route per path, answering every method itself: a path with no endpoint for the method
    is a 405 naming all the methods it serves, and a concrete path (`/missions/bulk`) is never
    taken for a template (`/missions/{id}`) of another method. Concrete paths come first."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for ep in endpoints:
        by_path.setdefault(PREFIXES[ep.surface] + ep.path, {})[ep.method] = ep
    ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
    return [Route(path, _PathApp(methods), methods=None) for path, methods in ordered]


class _PathApp:
    """The ASGI app of one path (an instance, not a function, so Starlette hands it every method)."""

    def __init__(self, endpoints: dict[str, Endpoint]) -> None:
        self.handlers = {method: _handler(ep) for method, ep in endpoints.items()}
        if "GET" in self.handlers:
            self.handlers.setdefault("HEAD", self.handlers["GET"])
        self.allow = ", ".join(sorted(self.handlers))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive, send)
        handler = self.handlers.get(request.method)
        if handler is None:
            raise HTTPException(405, headers={"Allow": self.allow})
        response = await handler(request)
        await response(scope, receive, send)


def _handler(endpoint: Endpoint) -> Any:
    async def handle(request: Request) -> Response:
        return await run(endpoint, request)

    handle.__name__ = endpoint.operation_id
    return handle


def prefers_async(prefer_headers: list[str]) -> bool:
    """Whether `Prefer` (RFC 7240: comma-separated `token[=value][; parameters]`, in any number of
    headers) names `respond-async`."""
    preferences = (item.split(";", 1)[0].split("=", 1)[0] for h in prefer_headers for item in h.split(","))
    return any(p.strip().lower() == "respond-async" for p in preferences)


def render(endpoint: Endpoint, result: Any, respond_async: bool = False) -> Response:
    if endpoint.raw_response and isinstance(result, Response):
        return result
    if endpoint.async_location and respond_async:
        response = json_response({"data": _out(endpoint, result)}, 202)
        location = endpoint.async_location.format(id=result.id)
        response.headers.update({"Location": location, "Preference-Applied": "respond-async"})
        return response
    if endpoint.status == 204:
        return Response(status_code=204)
    if endpoint.many:
        assert isinstance(result, Page)
        payload: Any = {
            "data": _out_many(endpoint, result.items),
            "pagination": {
                "limit": result.limit,
                "nextCursor": result.next_cursor,
                "hasMore": result.has_more,
            },
        }
    else:
        payload = {"data": _out(endpoint, result)}
    return json_response(payload, endpoint.status)


def _out(endpoint: Endpoint, item: Any) -> Any:
    if endpoint.returns is None or isinstance(item, dict | list):
        return item  # already in its public shape (per-item results of a bulk call)
    return to_public(endpoint.returns, item)


def _out_many(endpoint: Endpoint, items: list[Any]) -> list[Any]:
    if endpoint.returns is None:
        return items
    return to_public_many(endpoint.returns, items)


def _check_surface(endpoint: Endpoint, principal: Principal) -> None:
    if endpoint.surface == "settings" and principal.actor_type != ActorType.USER:
        raise InsufficientScope(
            "Settings endpoints need a company admin's web session; API tokens may not use them."
        )
    if endpoint.surface == "api" and principal.actor_type != ActorType.TOKEN:
        raise InsufficientScope("/api/v1 is for API tokens; the web panel uses /graphql.")
    if not principal.can(endpoint.scope):
        needed = {
            Scope.WRITE: "a full_access token",
            Scope.ADMIN: "a company admin",
            Scope.READ: "read access",
        }
        raise InsufficientScope(
            f"This call needs {needed[endpoint.scope]}.", {"requiredScope": endpoint.scope.value}
        )


async def run(endpoint: Endpoint, request: Request) -> Response:
    state = request.scope.setdefault("state", {})
    request_id: str = state.get("request_id", "")
    limit_headers: dict[str, str] = {}
    try:
        async with unit_of_work(ANONYMOUS, Source.API, read_only=not endpoint.mutating) as uow:
            if endpoint.surface == "auth":
                return await _execute(endpoint, request, uow, request_id)
            admitted = await gateway.admit(request, uow)
            limit_headers = admitted.headers
            _check_surface(endpoint, admitted.principal)
            response = await _execute(endpoint, request, uow, request_id)
    except DomainError as error:
        return error_response(error, request_id, {**limit_headers, **getattr(error, "headers", {})})
    response.headers.update(limit_headers)
    return response


async def _execute(endpoint: Endpoint, request: Request, uow: UnitOfWork, request_id: str) -> Response:
    limit = endpoint.max_body_bytes or get_settings().max_body_bytes
    key = request.headers.get("idempotency-key") if endpoint.mutating and endpoint.surface != "auth" else None
    try:
        raw = await read_capped(request, limit) if endpoint.mutating else b""
    except PayloadTooLarge:
        # The contract's order puts a missing record (404) before a body that is too large.
        if endpoint.loads is not None and "id" in request.path_params:
            await endpoint.loads(uow, str(request.path_params["id"]))
        raise

    async def produce() -> gateway.Answer:
        try:
            if endpoint.mutating:
                async with gateway.atomic(uow):
                    return gateway.Answer(await _call(endpoint, request, uow, raw))
            return gateway.Answer(await _call(endpoint, request, uow, raw))
        except DomainError as error:
            if error.http_status >= 500:
                raise
            return gateway.Answer(error_response(error, request_id))

    return await gateway.answer_once(uow, request, key, "", raw, produce)


async def _call(endpoint: Endpoint, request: Request, uow: UnitOfWork, raw: bytes) -> Response:
    path = {k: str(v) for k, v in request.path_params.items()}
    record = await endpoint.loads(uow, path["id"]) if endpoint.loads and "id" in path else None
    body = parse_body(endpoint.body, raw, request.headers.get("content-type")) if endpoint.mutating else None
    query = parse_query(endpoint.query, request.query_params)
    honoured = endpoint.async_location is not None and prefers_async(request.headers.getlist("prefer"))
    call = Call(
        record=record, body=body, query=query, path=path, accept=request.headers.get("accept", ""),
        respond_async=honoured,
    )  # fmt: skip
    result = endpoint.call(uow, call)
    if inspect.isawaitable(result):
        result = await result
    return render(endpoint, result, call.respond_async)
