"""`Node`: every record type, found by id alone through `node(id:)` and `nodes(ids:)`.

Record ids are UUIDs, unique across every type, so a record's `id` is already a global id: the same
value works on both surfaces, and `node` finds its type with one indexed lookup per table. Each type
keeps its own scope (a token reads missions, only a company admin reads API tokens), and another
company's id is not found, exactly like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import text

from app.core.db import UnitOfWork
from app.core.errors import InsufficientScope, ValidationFailed
from app.core.principal import ActorType, Principal, Scope
from app.graphql.context import Info
from app.graphql.mutations import query

MAX_IDS = 100


@strawberry.interface(description="A record of any type: fetch one by its `id` with `node(id:)`.")
class Node:
    id: strawberry.ID


@dataclass(frozen=True)
class NodeKind:
    table: str
    scope: Scope
    fetch: Callable[[UnitOfWork, uuid.UUID], Awaitable[Any]]  # the record as its GraphQL type


_KINDS: dict[str, NodeKind] = {}


def register_node(table: str, scope: Scope, fetch: Callable[[UnitOfWork, uuid.UUID], Awaitable[Any]]) -> None:
    _KINDS[table] = NodeKind(table, scope, fetch)


def _allowed(principal: Principal, scope: Scope) -> bool:
    if scope == Scope.ADMIN and principal.actor_type != ActorType.USER:
        return False
    return principal.can(scope)


async def _tables_of(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Which table holds each id, within the caller's company."""
    lookups = " union all ".join(
        f"select id, '{kind.table}' as kind from {kind.table} where company_id = :company and id = any(:ids)"  # noqa: S608 (registered names)
        for kind in _KINDS.values()
    )
    rows = await uow.execute(text(lookups), {"company": uow.company_id, "ids": ids})
    return {row.id: row.kind for row in rows}


def _parse(value: str, field: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None  # not an id this API issued: nothing has it


async def _resolve(info: Info, ids: Sequence[str], field: str) -> list[Any]:
    uow, principal = info.context.uow, info.context.principal
    parsed = [_parse(value, field) for value in ids]
    tables = await _tables_of(uow, [p for p in parsed if p is not None])
    found: list[Any] = []
    for record_id in parsed:
        kind = _KINDS.get(tables.get(record_id, "")) if record_id is not None else None
        if kind is None or record_id is None:
            found.append(None)
            continue
        if not _allowed(principal, kind.scope):
            raise InsufficientScope(
                f"This record needs the `{kind.scope.value}` scope.", {"requiredScope": kind.scope.value}
            )
        found.append(await kind.fetch(uow, record_id))
    return found


@strawberry.type
class NodeQueries:
    @query(description="The record with this id, of any type; null when your company has none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return (await _resolve(info, [id], "id"))[0]

    @query(description=f"The records with these ids (at most {MAX_IDS}), in order; null for any not found.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_IDS:
            raise ValidationFailed.field("ids", f"may hold at most {MAX_IDS} ids")
        return await _resolve(info, ids, "ids")
