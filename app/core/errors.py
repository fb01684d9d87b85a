"""Typed, expected failures. Every surface renders them as the contract's error envelope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


class DomainError(Exception):
    code = "internal_error"
    http_status = 500
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details if details is not None else {}
        # Writes that must outlive the refusal (a wrong proof code still spends an attempt): the
        # surfaces roll the failed operation back, then run these in the same transaction, before
        # the idempotent response is stored. Each takes the unit of work.
        self.after_rollback: list[Callable[[Any], Awaitable[None]]] = []
        super().__init__(self.message)


class InvalidJson(DomainError):
    code, http_status, default_message = "invalid_json", 400, "The request body is not a valid JSON object."


class Unauthorized(DomainError):
    code, http_status, default_message = "unauthorized", 401, "A valid bearer token is required."


class InsufficientScope(DomainError):
    code, http_status, default_message = "insufficient_scope", 403, "This credential may not do that."


class NotFound(DomainError):
    code, http_status, default_message = "not_found", 404, "No such record."


class RouteNotFound(DomainError):
    code, http_status, default_message = "route_not_found", 404, "No such endpoint."


class MethodNotAllowed(DomainError):
    code, http_status, default_message = (
        "method_not_allowed",
        405,
        "This endpoint does not accept that method.",
    )


class Conflict(DomainError):
    code, http_status, default_message = "conflict", 409, "The request conflicts with the current state."


class IdempotencyKeyReused(DomainError):
    code, http_status = "idempotency_key_reused", 409
    default_message = "This Idempotency-Key was already used for a different request."


class IdempotencyKeyInUse(DomainError):
    code, http_status = "idempotency_key_in_use", 409
    default_message = "A request with this Idempotency-Key is still running."


class InsufficientCredits(DomainError):
    code, http_status = "insufficient_credits", 402
    default_message = "Not enough scheduled-order credits."


class PayloadTooLarge(DomainError):
    code, http_status, default_message = "payload_too_large", 413, "The request body is too large."


class UnsupportedMediaType(DomainError):
    code, http_status = "unsupported_media_type", 415
    default_message = "Send the body as JSON with Content-Type: application/json."


class ValidationFailed(DomainError):
    code, http_status, default_message = "validation_error", 422, "The request is invalid."

    @classmethod
    def field(cls, field: str, issue: str) -> ValidationFailed:
        return cls(f"{field}: {issue}", [{"field": field, "issue": issue}])


class InvalidProofCode(DomainError):
    code, http_status, default_message = "invalid_proof_code", 422, "The proof-of-delivery code is wrong."


class ProofCodeExpired(DomainError):
    code, http_status, default_message = "proof_code_expired", 422, "The proof-of-delivery code has expired."


class ProofAttemptsExhausted(DomainError):
    code, http_status = "proof_attempts_exhausted", 422
    default_message = "No proof-of-delivery attempts remain; regenerate the code."


class RateLimited(DomainError):
    code, http_status, default_message = "rate_limited", 429, "Too many requests."

    def __init__(self, retry_after: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(details={"retryAfterSeconds": retry_after})
        self.retry_after = retry_after
        self.headers = headers or {}  # the limit's RateLimit-* headers, answered with the 429


class InternalError(DomainError):
    pass
