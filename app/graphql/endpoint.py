"""POST /graphql: authenticate, run the operation in one unit of work, render errors with the
contract's codes. Mutations honour Idempotency-Key exactly like REST writes. Documents may be sent
as persisted-query hashes (app/graphql/persisted.py), and every answer reports the operation's
cost (app/graphql/cost.py)."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from starlette.requests import Request
from starlette.responses import Response

from app.core import gateway, jsonutil
from app.core.bodies import read_capped, refuse_nul
from app.core.db import UnitOfWork, unit_of_work
from app.core.envelope import error_response, json_response
from app.core.errors import DomainError, InvalidJson, UnsupportedMediaType, ValidationFailed
from app.core.logging import get_logger
from app.core.principal import ANONYMOUS, Principal, Source
from app.graphql import cost, documents, graphiql, persisted
from app.graphql.context import Context
from app.graphql.schema import MAX_TOKENS, VALIDATION_RULES, schema
from app.mobile_users.types import PUBLIC_MUTATIONS

log = get_logger("rouptimize.graphql")
MAX_BODY_BYTES = 1024 * 1024  # a panel's or analyst's document with its variables; imports use REST


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    body: dict[str, Any] = {"message": error.message, "path": error.path, "locations": None}
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if isinstance(original, DomainError) and original.http_status < 500:
        body["message"] = original.message
        body["extensions"] = {"code": original.code, "details": original.details, "requestId": request_id}
        # The caller's error, not ours: one line, no traceback (as REST logs a 4xx).
        log.info("graphql_refused", request_id=request_id, refusal=original.code, path=error.path)
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


def _json_parameter(params: dict[str, str], name: str) -> Any:
    try:
        return jsonutil.loads(params[name]) if params.get(name) else None
    except ValueError:
        raise InvalidJson(f"`{name}` is not valid JSON.", {"field": name}) from None


async def _read_operation(request: Request) -> tuple[dict[str, Any], bytes]:
    """The request's operation (`query` may be missing when a persisted-query hash stands for it)."""
    if request.method == "GET":
        params = dict(request.query_params)
        payload = {
            "query": params.get("query") or None,
            "variables": _json_parameter(params, "variables"),
            "operationName": params.get("operationName"),
            "extensions": _json_parameter(params, "extensions"),
        }
        if payload["query"] is None and not _names_persisted_query(payload):
            raise ValidationFailed.field("query", "is required")
        return payload, b""
    raw = await read_capped(request, MAX_BODY_BYTES)
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        raise UnsupportedMediaType()
    try:
        payload = jsonutil.loads(raw)
    except ValueError:
        raise InvalidJson() from None
    if not isinstance(payload, dict):
        raise InvalidJson('Send {"query": "...", "variables": {...}}.')
    query = payload.get("query")
    if not isinstance(query, str) and not (query is None and _names_persisted_query(payload)):
        raise InvalidJson('Send {"query": "...", "variables": {...}}.')
    refuse_nul(payload.get("variables"), raw, "variables")
    return payload, raw


def _names_persisted_query(payload: dict[str, Any]) -> bool:
    extensions = payload.get("extensions")
    return isinstance(extensions, dict) and extensions.get("persistedQuery") is not None


def _operation(query: str | None, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation to run, parsed once and bounded to MAX_TOKENS before anything else (a document
    of a million tokens costs its parse whoever sends it); None when the document does not parse,
    which the execution answers with its locations, as GraphQL clients expect."""
    if query is None:
        return None
    try:
        return get_operation_ast(documents.parsed(query, MAX_TOKENS), operation_name)
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
        and "extensions" not in request.query_params
    ):
        return graphiql.page_response(request)
    try:
        payload, raw = await _read_operation(request)
        hashed = persisted.requested(payload)
        store = persisted.store_of(request)
        if hashed is not None and hashed.query is None:
            payload["query"] = await store.lookup(hashed.sha256) if store is not None else None
        operation = _operation(payload["query"], payload.get("operationName"))
        async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
            if request.method == "POST" and _is_public(operation):
                # Sign-in and invite acceptance bind their company themselves, after the lookup.
                uow.source = Source.MOBILE
                return await _run(request, uow, ANONYMOUS, payload, raw, request_id, operation)
            admitted = await gateway.admit(request, uow)
            if payload["query"] is None:
                response = persisted.not_found(request_id)
            else:
                if hashed is not None and hashed.query is not None and store is not None:
                    await _register(request, store, hashed.sha256, hashed.query, operation)
                response = await _run(request, uow, admitted.principal, payload, raw, request_id, operation)
            response.headers.update(admitted.headers)
            return response
    except DomainError as error:
        return error_response(error, request_id, getattr(error, "headers", {}))


async def _register(
    request: Request,
    store: persisted.PersistedQueries,
    sha256: str,
    query: str,
    operation: OperationDefinitionNode | None,
) -> None:
    """Keep a document sent with its hash, once its sender is authenticated and if it may run
    as sent: it validates, and is not a mutation over GET."""
    if operation is None or (request.method == "GET" and _is_mutation(operation)):
        return
    if not documents.validation_errors(schema._schema, query, MAX_TOKENS, VALIDATION_RULES):
        await store.register(sha256, query)


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
    # A query changes nothing that must outlive a failed commit (see UnitOfWork.commit_optional).
    uow.commit_optional = not mutation

    async def produce() -> gateway.Answer:
        body = await execute(request, uow, principal, query, variables, operation_name, request_id)
        return gateway.Answer(json_response(body), server_error=_failed_inside(body))

    # Scopes are checked field by field as the document runs, so a stored answer is replayed only
    # to the credential whose operation made it.
    caller = f"{principal.actor_type.value}:{principal.actor_id}"
    return await gateway.answer_once(uow, request, key, caller, raw, produce)


async def execute(
    request: Request, uow: UnitOfWork, principal: Principal, query: str,
    variables: dict[str, Any] | None, operation_name: str | None, request_id: str,
) -> dict[str, Any]:  # fmt: skip
    """Run one operation for an admitted caller, charged to its cost budget: the answer's body.
    The settings pages (app/settings_pages) run their documents through here too."""
    requested = _requested_cost(query, operation_name, variables)
    limiter = getattr(request.app.state, "rate_limiter", None)
    try:
        cost.refuse_if_too_costly(requested)
    except ValidationFailed as too_costly:
        # Refused before it runs: the caller's budget is only read, not drawn on.
        spent = await cost.charge(limiter, principal, requested, draw=False)
        error = GraphQLError(too_costly.message, original_error=too_costly)
        body: dict[str, Any] = {"data": None, "errors": [format_error(error, request_id)]}
    else:
        spent = await cost.charge(limiter, principal, requested)
        context = Context(uow=uow, principal=principal, request_id=request_id)
        result = await schema.execute(
            query, variable_values=variables, context_value=context, operation_name=operation_name
        )
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id) for e in result.errors]
    body["extensions"] = {"cost": spent.extension()}
    return body


def _requested_cost(query: str, operation_name: str | None, variables: dict[str, Any] | None) -> int:
    """The operation's cost; 0 when its document does not parse or validate (nothing of it runs)."""
    try:
        document = documents.parsed(query, MAX_TOKENS)
    except GraphQLError:
        return 0
    if documents.validation_errors(schema._schema, query, MAX_TOKENS, VALIDATION_RULES):
        return 0
    return cost.operation_cost(schema._schema, document, operation_name, variables) or 0


def _failed_inside(body: dict[str, Any]) -> bool:
    """An answer masking a server error is not stored: the same request may well succeed later."""
    return any(e.get("extensions", {}).get("code") == "internal_error" for e in body.get("errors", []))
