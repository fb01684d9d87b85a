"""Mutation fields run in a savepoint: a failed mutation leaves nothing half-written, while the
mutations before it in the same document keep their effects."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import FieldExtension

from app.core import gateway
from app.core.principal import Scope
from app.graphql.permissions import permission
from app.graphql.results import REFUSALS, TypedRefusals


class Atomic(FieldExtension):
    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        async with gateway.atomic(info.context.uow):
            return await next_(source, info, **kwargs)


def writes(*guards: FieldExtension, refusals: tuple[type, ...] = REFUSALS) -> list[FieldExtension]:
    """A mutation's extensions: its guards, then the savepoint, then the typed refusals (outermost)."""
    return [*guards, Atomic(), TypedRefusals(refusals)]


def mutation(scope: Scope = Scope.WRITE, refusals: tuple[type, ...] = REFUSALS, **options: Any) -> Any:
    return strawberry.mutation(extensions=writes(*permission(scope), refusals=refusals), **options)


def query(scope: Scope = Scope.READ, **options: Any) -> Any:
    return strawberry.field(extensions=permission(scope), **options)


@strawberry.type
class Deleted:
    id: strawberry.ID
