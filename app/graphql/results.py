"""Typed mutation results: each mutation answers a union of its payload and the refusals it can
meet (`BranchResult = Branch | ValidationError | NotFound | Conflict | ...`), so the schema itself
says how a call can fail and a panel can show each refusal beside the field that caused it.

Refusals carry the contract's `code`, `message` and `details`, as REST's error envelope does.
What is not about the call's input stays a top-level GraphQL error: authentication, scope, rate
limits, idempotency keys and server errors."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from pydantic.alias_generators import to_camel
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types.union import StrawberryUnion

from app.core import errors


@strawberry.interface(
    description="Why a mutation was refused: the contract's error code, message and details."
)
class MutationError:
    code: str
    message: str
    details: JSON | None = strawberry.field(description="The REST error envelope's `details`, as is.")


@strawberry.type(
    description="Where the input breaks a rule: a field path (`input.timeWindowEnd`) and the issue."
)
class FieldIssue:
    field: str
    issue: str


@strawberry.type(description="The input breaks a rule (`validation_error`); `fields` says where.")
class ValidationError(MutationError):
    fields: list[FieldIssue]


@strawberry.type(description="A record the call names is not one of your company's (`not_found`).")
class NotFound(MutationError):
    pass


@strawberry.type(
    description="The call conflicts with the current state (`conflict`): a duplicate `externalId` "
    "(`details.existingId`), dependants on delete, or a move its state does not allow."
)
class Conflict(MutationError):
    pass


@strawberry.type(description="The company has too few scheduled-order credits (`insufficient_credits`).")
class InsufficientCredits(MutationError):
    pass


@strawberry.type(
    description="A proof-of-delivery code was refused: `invalid_proof_code`, `proof_code_expired` or "
    "`proof_attempts_exhausted`."
)
class ProofRejected(MutationError):
    attempts_remaining: int | None


REFUSALS: tuple[type, ...] = (ValidationError, NotFound, Conflict, InsufficientCredits)
# The mutations that check a proof-of-delivery code.
PROOF_REFUSALS: tuple[type, ...] = (*REFUSALS, ProofRejected)
_PROOF = (errors.InvalidProofCode, errors.ProofCodeExpired, errors.ProofAttemptsExhausted)


def as_refusal(error: errors.DomainError) -> MutationError | None:
    """The typed result for a refusal about the call itself; None for what stays top-level."""
    code, message, details = error.code, error.message, cast(JSON, error.details)
    if isinstance(error, errors.ValidationFailed):
        issues = details if isinstance(details, list) else []
        fields = [FieldIssue(field=i["field"], issue=i["issue"]) for i in issues]
        return ValidationError(code=code, message=message, details=details, fields=fields)
    if isinstance(error, errors.NotFound):
        return NotFound(code=code, message=message, details=details)
    if type(error) is errors.Conflict:
        return Conflict(code=code, message=message, details=details)
    if isinstance(error, errors.InsufficientCredits):
        return InsufficientCredits(code=code, message=message, details=details)
    if isinstance(error, _PROOF):
        remaining = details.get("attemptsRemaining") if isinstance(details, dict) else None
        return ProofRejected(code=code, message=message, details=details, attempts_remaining=remaining)
    return None


_unions: dict[str, StrawberryUnion] = {}


def result_union(mutation_name: str, payload: Any, refusals: tuple[type, ...]) -> StrawberryUnion:
    """`<MutationName>Result`: the payload, or one of the refusals."""
    name = to_camel(mutation_name)
    name = f"{name[:1].upper()}{name[1:]}Result"
    if name not in _unions:
        payload_name = payload.__strawberry_definition__.name
        _unions[name] = StrawberryUnion(
            name=name,
            type_annotations=tuple(StrawberryAnnotation(t) for t in (payload, *refusals)),
            description=f"`{payload_name}`, or why the mutation was refused.",
        )
    return _unions[name]


class TypedRefusals(FieldExtension):
    """Turns the field's type into its result union and its refusals into typed results. Listed
    after `Atomic`, so a refused write is rolled back before it is answered."""

    typed = False

    def __init__(self, refusals: tuple[type, ...] = REFUSALS) -> None:
        super().__init__()
        self.refusals = refusals

    def apply(self, field: Any) -> None:
        # A list answer (a bulk call's per-item results) cannot join a union: it reports per item.
        self.typed = hasattr(field.type, "__strawberry_definition__")
        if self.typed:
            field.type = result_union(field.python_name, field.type, self.refusals)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except errors.DomainError as error:
            refusal = as_refusal(error) if self.typed else None
            if refusal is None or not isinstance(refusal, self.refusals):
                raise
            return refusal
