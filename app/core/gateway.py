"""The checks every request goes through, whichever surface it came by.

REST's generic handler and `/graphql` both call these steps, in this order, and keep only the
translation of their input and output:

1. `admit`: resolve the credential (401) and count the request against its rate limit (429);
2. the surface checks the caller's scope (403);
3. `answer_once`: claim the Idempotency-Key and replay a stored answer, or run and store it;
4. `atomic`: run the write all-or-nothing, keeping only what its refusal must record.

Bodies are read through `app.core.bodies.read_capped`, under each surface's limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from app.auth.service import auth_service
from app.core import idempotency
from app.core.db import UnitOfWork
from app.core.errors import DomainError
from app.core.principal import Principal
from app.core.ratelimit import limit_rate


@dataclass
class Admitted:
    principal: Principal
    # RateLimit-* headers: every answer to this request carries them, refusals included.
    headers: dict[str, str] = field(default_factory=dict)


async def admit(request: Request, uow: UnitOfWork, authorization: str | None = None) -> Admitted:
    """The caller behind the request's credential, bound to the unit of work and counted against
    its rate limit (shared by the API replicas through Redis). `authorization` stands in for the
    Authorization header where the credential travels otherwise (the settings pages' cookie)."""
    credential = authorization if authorization is not None else request.headers.get("authorization")
    principal = await auth_service.authenticate(uow, credential)
    state = request.scope.setdefault("state", {})
    state["company_id"] = str(principal.company_id)
    state["token_id"] = str(principal.token_id) if principal.token_id else None
    headers = await limit_rate(getattr(request.app.state, "rate_limiter", None), principal)
    return Admitted(principal, headers)


@dataclass
class Answer:
    response: Response
    # A 5xx, or a GraphQL answer masking one: the same request may succeed later, so it is not kept.
    server_error: bool = False


async def answer_once(
    uow: UnitOfWork, request: Request, key: str | None, audience: str, raw: bytes,
    produce: Callable[[], Awaitable[Answer]],
) -> Response:  # fmt: skip
    """Run `produce` once per Idempotency-Key (scoped to the caller's company) and answer replays
    with what it answered, byte for byte. Call it only after the scope check: a stored answer is
    never handed to a caller who could not have made the request.

    `audience` joins the request's fingerprint: GraphQL passes the caller, because a document's
    nested fields carry their own scopes, which a replay would not check again."""
    if key is None:
        return (await produce()).response
    idempotency.check_key(key)
    fingerprint = idempotency.fingerprint(
        request.method, request.url.path, f"{request.url.query}&{audience}", raw
    )
    stored = await idempotency.claim(uow, key, fingerprint)
    if stored is not None:
        headers = {**stored.headers, "Idempotent-Replayed": "true"}
        return Response(stored.body, status_code=stored.status_code, headers=headers)
    answer = await produce()
    response = answer.response
    if response.status_code < 500 and not answer.server_error:
        body = bytes(getattr(response, "body", b""))
        stored = idempotency.StoredResponse(response.status_code, dict(response.headers), body)
        idempotency.store(uow, key, fingerprint, stored)
    return response


@asynccontextmanager
async def atomic(uow: UnitOfWork) -> AsyncIterator[None]:
    """A write in a savepoint: refused, it leaves nothing behind but what its refusal must record
    (`DomainError.after_rollback`, e.g. a failed proof-of-delivery attempt), written after the
    rollback in the same transaction."""
    try:
        async with uow.savepoint():
            yield
    except DomainError as error:
        for persist in error.after_rollback:
            await persist(uow)
        raise
