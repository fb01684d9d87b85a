"""POST /graphql: authenticate, run the operation in one unit of work, render errors with the
contract's codes. Mutations honour Idempotency-Key exactly like REST writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.auth.service import auth_service
from app.core import idempotency, jsonutil
from app.core.bodies import read_capped, refuse_nul
from app.core.db import UnitOfWork, unit_of_work
from app.core.envelope import error_response, json_response
from app.core.errors import DomainError, InvalidJson, UnsupportedMediaType, ValidationFailed
from app.core.logging import get_logger
from app.core.principal import ANONYMOUS, Principal, Source
from app.core.ratelimit import limit_rate
from app.graphql.context import Context
from app.graphql.schema import MAX_TOKENS, schema
from app.mobile_users.types import PUBLIC_MUTATIONS

log = get_logger("rouptimize.graphql")
MAX_BODY_BYTES = 1024 * 1024  # a panel's or analyst's document with its variables; imports use REST
_GRAPHIQL = (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text()


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    body: dict[str, Any] = {"message": error.message, "path": error.path, "locations": None}
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if isinstance(original, DomainError) and original.http_status < 500:
        body["message"] = original.message
        body["extensions"] = {"code": original.code, "details": original.details, "requestId": request_id}
    elif original is None or isinstance(original, GraphQLError) or error.path is None:
        # Parse, validation, variable coercion and limit errors: the request itself is wrong.
        # (Execution errors always carry a path; these never do.)
        body["extensions"] = {"code": "validation_error", "details": [], "requestId": request_id}
    else:
        log.error(
            "graphql_error", request_id=request_id, error_type=type(original).__name__, exc_info=original
        )
        body["message"] = "An unexpected error occurred."
        body["extensions"] = {"code": "internal_error", "details": {}, "requestId": request_id}
    return {k: v for k, v in body.items() if v is not None}


async def _read_operation(request: Request) -> tuple[dict[str, Any], bytes]:
    if request.method == "GET":
        params = dict(request.query_params)
        try:
            variables = jsonutil.loads(params["variables"]) if params.get("variables") else None
        except ValueError:
            raise InvalidJson("`variables` is not valid JSON.", {"field": "variables"}) from None
        if not params.get("query"):
            raise ValidationFailed.field("query", "is required")
        return {
            "query": params.get("query"),
            "variables": variables,
            "operationName": params.get("operationName"),
        }, b""
    raw = await read_capped(request, MAX_BODY_BYTES)
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        raise UnsupportedMediaType()
    try:
        payload = jsonutil.loads(raw)
    except ValueError:
        raise InvalidJson() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise InvalidJson('Send {"query": "...", "variables": {...}}.')
    refuse_nul(payload.get("variables"), raw, "variables")
    return payload, raw


def _operation(query: str, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation to run, parsed once and bounded to MAX_TOKENS before anything else (a document
    of a million tokens costs its parse whoever sends it); None when the document does not parse,
    which the execution answers with its locations, as GraphQL clients expect."""
    try:
        return get_operation_ast(parse(query, no_location=True, max_tokens=MAX_TOKENS), operation_name)
    except GraphQLError as error:
        if "tokens" in error.message:
            raise ValidationFailed.field("query", f"has more than {MAX_TOKENS} tokens") from None
        return None


def _is_public(operation: OperationDefinitionNode | None) -> bool:
    """A mutation made only of the driver app's pre-session fields (no fragments, no others)."""
    if not _is_mutation(operation):
        return False
    assert operation is not None
    fields = operation.selection_set.selections
    public = bool(fields) and all(
        isinstance(f, FieldNode) and f.name.value in PUBLIC_MUTATIONS for f in fields
    )
    if public and len(fields) > 1:
        # Aliases would make one request many password or invite-code guesses.
        raise ValidationFailed.field("query", "may check one credential per request")
    return public


def _is_mutation(operation: OperationDefinitionNode | None) -> bool:
    return operation is not None and operation.operation == OperationType.MUTATION


async def graphql_endpoint(request: Request) -> Response:
    state = request.scope.setdefault("state", {})
    request_id: str = state.get("request_id", "")
    if (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    ):
        return HTMLResponse(
            _GRAPHIQL.replace("{{ SUBSCRIPTION_ENABLED }}", "true").replace("{{ REPLACE_VARIABLES }}", "")
        )
    try:
        payload, raw = await _read_operation(request)
        operation = _operation(payload["query"], payload.get("operationName"))
        async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
            if request.method == "POST" and _is_public(operation):
                # Sign-in and invite acceptance bind their company themselves, after the lookup.
                uow.source = Source.MOBILE
                return await _run(request, uow, ANONYMOUS, payload, raw, request_id, operation)
            principal = await auth_service.authenticate(uow, request.headers.get("authorization"))
            state["company_id"] = str(principal.company_id)
            state["token_id"] = str(principal.token_id) if principal.token_id else None
            limits = await limit_rate(getattr(request.app.state, "rate_limiter", None), principal)
            response = await _run(request, uow, principal, payload, raw, request_id, operation)
            response.headers.update(limits)
            return response
    except DomainError as error:
        return error_response(error, request_id, getattr(error, "headers", {}))


async def _run(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    payload: dict[str, Any],
    raw: bytes,
    request_id: str,
    operation: OperationDefinitionNode | None,
) -> Response:
    query, operation_name = payload["query"], payload.get("operationName")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise ValidationFailed.field("variables", "must be an object")
    mutation = _is_mutation(operation)
    if mutation and request.method == "GET":
        raise ValidationFailed.field("query", "mutations must be sent with POST")
    if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
        # Their resolvers hold transactions of their own and need the socket's context.
        raise ValidationFailed.field("query", "subscriptions are served over WebSocket")
    # Public operations have no company to scope a key to; they are not idempotent by key.
    key = request.headers.get("idempotency-key") if mutation and principal.company_id is not None else None
    fingerprint = ""
    if key is not None:
        idempotency.check_key(key)
        # The credential is part of the request: a stored answer is replayed only to the credential
        # whose operation made it, never to another one of the company that knows the key (its
        # scopes were never checked against those fields).
        caller = f"{principal.actor_type.value}:{principal.actor_id}"
        fingerprint = idempotency.fingerprint("POST", request.url.path, caller, raw)
        stored = await idempotency.claim(uow, key, fingerprint)
        if stored is not None:
            return Response(
                stored.body, stored.status_code, {**stored.headers, "Idempotent-Replayed": "true"}
            )
    context = Context(uow=uow, principal=principal, request_id=request_id)
    result = await schema.execute(
        query, variable_values=variables, context_value=context, operation_name=operation_name
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id) for e in result.errors]
    response = json_response(body)
    if key is not None and not _failed_inside(body):
        idempotency.store(
            uow,
            key,
            fingerprint,
            idempotency.StoredResponse(200, dict(response.headers), bytes(response.body)),
        )
    return response


def _failed_inside(body: dict[str, Any]) -> bool:
    """An answer masking a server error is not stored: the same request may well succeed later."""
    return any(e.get("extensions", {}).get("code") == "internal_error" for e in body.get("errors", []))
