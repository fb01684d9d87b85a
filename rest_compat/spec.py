"""What an endpoint is: a row of data the router, the OpenAPI document and the contract tests read."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.core.db import UnitOfWork
from app.core.principal import Scope
from app.core.schemas import QueryModel


@dataclass
class Call:
    """What the generic handler hands to an endpoint's service call."""

    record: Any
    body: Any
    query: Any
    path: dict[str, str]
    accept: str = "application/json"
    # The caller sent `Prefer: respond-async` (RFC 7240): it would rather follow the work than wait.
    respond_async: bool = False


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to the surface's prefix, e.g. "/branches/{id}"
    scope: Scope
    call: Callable[[UnitOfWork, Call], Awaitable[Any] | Any]  # or the answer itself (a raw Response)
    summary: str
    tag: str
    description: str = ""
    # Loads the `{id}` record before the body is read, so a missing record is a 404 first.
    loads: Callable[[UnitOfWork, str], Awaitable[Any]] | None = None
    body: type[BaseModel] | None = None
    query: type[QueryModel] | None = None
    returns: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    emits: tuple[str, ...] = ()
    example: dict[str, Any] | None = None
    response_example: dict[str, Any] | None = None
    max_body_bytes: int | None = None
    surface: str = "api"  # "api" -> /api/v1 (API tokens); "settings" -> /companies/me (admin sessions)
    # For endpoints that answer something other than JSON envelopes (CSV/streaming export). With
    # `returns`, the JSON answer is `{"data": [<returns>, ...]}`, streamed, without pagination.
    raw_response: bool = False
    # Other representations of the answer, by media type, with an example of each (e.g. CSV).
    alternative_media: dict[str, str] = field(default_factory=dict)
    error_codes: tuple[int, ...] = field(default=())
    # Honours `Prefer: respond-async`: the call then answers the record that follows the work, and
    # the answer is 202 with `Location` (this template, filled with the record's id).
    async_location: str | None = None

    @property
    def mutating(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}

    @property
    def operation_id(self) -> str:
        words = [p for p in self.path.replace("{", "").replace("}", "").replace("-", "_").split("/") if p]
        return self.method.lower() + "_" + "_".join(words)


def by_id(loader: Callable[[UnitOfWork, Any], Awaitable[Any]]) -> Callable[[UnitOfWork, str], Awaitable[Any]]:
    return loader


def example_id() -> str:
    return str(uuid.UUID("0b3c9a52-52f4-4c1e-9a0b-3f1f1e2d4c5b"))
