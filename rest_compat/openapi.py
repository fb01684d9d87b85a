"""The OpenAPI 3.1 document, built from the same declarations as the routes, and a local Swagger UI."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.core.envelope import json_response
from app.core.idempotency import IDEMPOTENCY_KEY_PATTERN
from app.core.principal import Scope
from app.core.schemas import HHMM_PATTERN, QueryModel
from rest_compat.router import PREFIXES
from rest_compat.spec import Endpoint

DESCRIPTION = """\
The Rouptimize Integration API v1: company-scoped operational resources for ERP, e-commerce,
dispatch and analytics systems.

* **Auth**: `Authorization: Bearer rpt_test_...` (or `rpt_live_...` in production). `read_only`
  tokens may call every `GET`; `full_access` tokens every endpoint. Settings endpoints under
  `/companies/me` take a company admin's web session from `POST /auth/login` instead.
* **Errors**: `{"error": {"code", "message", "details", "requestId"}}` on every failure; the
  `X-Request-Id` header carries the same id.
* **Idempotency**: send `Idempotency-Key` (1..255 printable ASCII) on any write. Keys are per
  company and kept 24 hours; a replay returns the stored response with `Idempotent-Replayed: true`.
* **Lists**: `limit` (1..200, default 50), `cursor`, `updatedSince`, `externalId`; ordered by
  `createdAt` then `id`. Unknown query parameters and body fields are refused with 422.
* **Rate limits**: per token, 50 requests/second with bursts of 100 by default; see the
  `RateLimit-*` headers and `Retry-After` on 429.
"""

_ERRORS = {
    400: "invalid_json",
    401: "unauthorized",
    403: "insufficient_scope",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON schemas, saying two things the server does that pydantic does not state."""

    def time_schema(self, schema: Any) -> JsonSchemaValue:
        # Times of day are HH:MM both ways (`format: time` would promise seconds and an offset).
        return {"type": "string", "pattern": HHMM_PATTERN}

    def str_schema(self, schema: Any) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        least = schema.get("min_length") or 0
        if schema.get("strip_whitespace") and least and "pattern" not in json_schema:
            # Surrounding spaces are dropped before the length is checked: the text itself must
            # hold `least` characters from its first non-space to its last.
            # (Python's strip also drops \x1c-\x1f and \x85, which a regex's \s does not name.)
            solid = r"[^\s\x1c-\x1f\x85]"
            json_schema["pattern"] = solid if least == 1 else rf"{solid}[\s\S]{{{least - 2}}}{solid}"
        return json_schema


class _Components:
    """Every model's schema, made in one pass: two models of one name get distinct component
    names (module-qualified) instead of one silently standing for the other."""

    def __init__(self, endpoints: list[Endpoint]) -> None:
        wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
        for endpoint in endpoints:
            if endpoint.query is not None:
                wanted[(endpoint.query, "validation")] = None
            if endpoint.body is not None:
                wanted[(endpoint.body, "validation")] = None
            if endpoint.returns is not None:
                wanted[(endpoint.returns, "serialization")] = None
        refs, document = models_json_schema(
            list(wanted),
            by_alias=True,
            ref_template="#/components/schemas/{model}",
            schema_generator=_Schemas,
        )
        self.schemas: dict[str, Any] = document.get("$defs", {})
        self._refs = refs
        self._queries = {model for model, _ in wanted if issubclass(model, QueryModel)}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self._refs[(model, mode)])

    def inline(self, model: type[BaseModel]) -> dict[str, Any]:
        """A query model's own schema (its parameters are listed one by one, not referenced)."""
        return dict(self.schemas[self._refs[(model, "validation")]["$ref"].rsplit("/", 1)[1]])

    def drop_queries(self) -> None:
        for model in self._queries:
            self.schemas.pop(self._refs[(model, "validation")]["$ref"].rsplit("/", 1)[1], None)


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details", "requestId"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"oneOf": [{"type": "object"}, {"type": "array"}]},
                    "requestId": {"type": "string"},
                },
            }
        },
    }


def _parameters(endpoint: Endpoint, components: _Components) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        # Ids are UUIDs; other path segments (a report section) are names the description lists.
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"} if name == "id" else {"type": "string"},
        }
        for name in re.findall(r"{(\w+)}", endpoint.path)
    ]
    if endpoint.query is not None:
        schema = components.inline(endpoint.query)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = dict(prop)
            description = prop.pop("description", "")
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": prop,
                    "description": description,
                }
            )
    if endpoint.mutating and endpoint.surface != "auth":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                "description": "1..255 printable ASCII characters, without surrounding spaces. "
                "Makes the write safe to retry for 24 hours.",
            }
        )
    if endpoint.async_location is not None:
        params.append(
            {
                "name": "Prefer",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "example": "respond-async"},
                "description": "`respond-async` (RFC 7240): answer 202 at once with the job to follow.",
            }
        )
    return params


def _accepted(endpoint: Endpoint, components: _Components) -> dict[str, Any]:
    """The 202 of an endpoint that honours `Prefer: respond-async`."""
    answer = _success(endpoint, components)
    return {
        "description": "Accepted (`Prefer: respond-async`): the queued job; follow it at `Location`.",
        "headers": {
            "Location": {"schema": {"type": "string"}, "description": f"`{endpoint.async_location}`"},
            "Preference-Applied": {"schema": {"type": "string", "enum": ["respond-async"]}},
        },
        "content": {"application/json": {"schema": answer["content"]["application/json"]["schema"]}},
    }


def _success(endpoint: Endpoint, components: _Components) -> dict[str, Any]:
    if endpoint.status == 204:
        return {"description": "Done; no body."}
    data: dict[str, Any] = (
        components.ref(endpoint.returns, "serialization") if endpoint.returns else {"type": "object"}
    )
    if endpoint.raw_response and endpoint.returns is not None:
        schema = {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": data}},
        }
    elif endpoint.many:
        schema = {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": {"type": "array", "items": data},
                "pagination": {"$ref": "#/components/schemas/Pagination"},
            },
        }
    else:
        schema = {"type": "object", "required": ["data"], "properties": {"data": data}}
    content: dict[str, Any] = {"schema": schema}
    example = endpoint.response_example or _response_example(endpoint)
    if example is not None:
        content["example"] = example
    alternatives = {
        media: {"schema": {"type": "string"}, "example": example}
        for media, example in endpoint.alternative_media.items()
    }
    return {"description": endpoint.summary, "content": {"application/json": content, **alternatives}}


def _response_example(endpoint: Endpoint) -> Any:
    if endpoint.example is None:
        item: dict[str, Any] = {"id": "0b3c9a52-52f4-4c1e-9a0b-3f1f1e2d4c5b"}
    else:
        item = {"id": "0b3c9a52-52f4-4c1e-9a0b-3f1f1e2d4c5b", **endpoint.example}
    if endpoint.many:
        return {"data": [item], "pagination": {"limit": 50, "nextCursor": None, "hasMore": False}}
    return {"data": item}


def _operation(endpoint: Endpoint, components: _Components) -> dict[str, Any]:
    responses: dict[str, Any] = {str(endpoint.status): _success(endpoint, components)}
    if endpoint.async_location is not None:
        responses["202"] = _accepted(endpoint, components)
    codes = {400, 413, 415, 422} if endpoint.mutating else {422}
    # A sign-in answers a wrong password with 401 and repeated guesses with 429, like a credential.
    codes |= {401, 429} if endpoint.surface == "auth" else {401, 403, 429}
    if "{id}" in endpoint.path:
        codes.add(404)
    if endpoint.mutating:
        codes.add(409)
    for code in sorted(codes | set(endpoint.error_codes)):
        name = _ERRORS.get(code, "error")
        responses[str(code)] = {
            "description": name,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "description": _describe(endpoint),
        "tags": [endpoint.tag],
        "parameters": _parameters(endpoint, components),
        "responses": responses,
        "x-scope": endpoint.scope.value if endpoint.surface != "auth" else "public",
    }
    if endpoint.emits:
        operation["x-webhook-events"] = list(endpoint.emits)
    if endpoint.surface == "auth":
        operation["security"] = []
    if endpoint.body is not None:
        body: dict[str, Any] = {"schema": components.ref(endpoint.body, "validation")}
        if endpoint.example is not None:
            body["example"] = endpoint.example
        operation["requestBody"] = {"required": True, "content": {"application/json": body}}
    return operation


def _describe(endpoint: Endpoint) -> str:
    scope = {
        Scope.READ: "Scope: `read` (read_only and full_access tokens).",
        Scope.WRITE: "Scope: `write` (full_access tokens).",
        Scope.ADMIN: "Scope: company admin web session; API tokens get 403.",
    }[endpoint.scope]
    if endpoint.surface == "auth":
        scope = "Public."
    events = f" Webhook events: {', '.join(f'`{e}`' for e in endpoint.emits)}." if endpoint.emits else ""
    return f"{endpoint.description}\n\n{scope}{events}".strip()


def _links(endpoint: Endpoint, endpoints: list[Endpoint]) -> dict[str, Any]:
    """OpenAPI links from a create to every operation on the record it made (`/x` -> `/x/{id}...`),
    so clients and stateful test tools can follow the new id."""
    if endpoint.method != "POST" or endpoint.status != 201 or "{" in endpoint.path:
        return {}
    item = endpoint.path + "/{id}"
    return {
        target.operation_id: {
            "operationId": target.operation_id,
            "parameters": {"path.id": "$response.body#/data/id"},
            "description": f"`data.id` of the answer is the `id` of {target.method} {target.path}.",
        }
        for target in endpoints
        if target.surface == endpoint.surface
        and (target.path == item or target.path.startswith(item + "/"))
        and target.path.count("{") == 1
    }


def build_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    components = _Components(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path = PREFIXES[endpoint.surface] + endpoint.path
        operation = _operation(endpoint, components)
        links = _links(endpoint, endpoints)
        if links:
            operation["responses"][str(endpoint.status)]["links"] = links
        paths.setdefault(path, {})[endpoint.method.lower()] = operation
    components.drop_queries()
    components.schemas["Error"] = _error_schema()
    components.schemas["Pagination"] = {
        "type": "object",
        "required": ["limit", "nextCursor", "hasMore"],
        "properties": {
            "limit": {"type": "integer"},
            "nextCursor": {"type": ["string", "null"]},
            "hasMore": {"type": "boolean"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Rouptimize Integration API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _swagger_assets() -> Path:
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui (Swagger UI assets) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rouptimize API</title>
<link rel="stylesheet" href="/swagger/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
</script>
</body></html>"""


def routes(endpoints: list[Endpoint]) -> list[Route | Mount]:
    document = build_document(endpoints)

    async def openapi_json(request: Request) -> Response:
        return json_response(document)

    async def swagger(request: Request) -> Response:
        return HTMLResponse(_SWAGGER_PAGE)

    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/swagger", swagger, methods=["GET"]),
        Mount("/swagger/assets", StaticFiles(directory=_swagger_assets()), name="swagger-assets"),
    ]
